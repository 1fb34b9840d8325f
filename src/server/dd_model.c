/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Model-driven protocol codec. The embedded botocore models say, for every operation we
 * serve, where each input member travels (URI label, query string, header, body or form
 * field) and what it must satisfy; this module binds requests into one JSON object keyed
 * by member name, validates it, and writes awsQuery XML responses. Java-style patterns
 * are translated to POSIX extended regexes; a pattern that cannot be translated exactly
 * (Unicode classes, \x escapes) is not enforced, never approximated into a false reject.
 */
#include "server/dd_model.h"

#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ROUTES 512
#define MAX_SEGS 12
#define MAX_PATTERNS 256

struct route {
	const char *op_name;
	const char *method;
	int nseg;
	const char *seg[MAX_SEGS]; /* literal, or "{name}" / "{name+}" */
	int literals;
};

/* An entry of a model's route index: the route's first path segment (empty for "/"),
 * and its position in routes. */
struct seg_key {
	const char *seg;
	int pos;
};

struct dd_model {
	const char *service;
	json_t *root;
	json_t *ops;
	json_t *shapes;
	enum dd_protocol proto;
	struct route *routes;
	int nroutes;
	char *seg_store;
	/* The route index (dd_model_route): the routes whose first segment is a literal,
	 * sorted by that segment and position, so a request's candidates are one run found by
	 * binary search; the routes whose first segment is a label are always tried. */
	struct seg_key *index;
	int nindex;
	int *wild;
	int nwild;
};

struct dd_model_op {
	int dummy;
};

static struct dd_model models[8];
static int nmodels;

static struct {
	char *pattern;
	regex_t rx;
	bool ok;
} patterns[MAX_PATTERNS];
static int npatterns;

/* ---- Java regex -> POSIX ERE ------------------------------------------------------- */

static bool add_class(struct dd_buf *b, char cls, bool in_bracket)
{
	const char *body;
	switch (cls) {
	case 'w': body = "A-Za-z0-9_"; break;
	case 'd': body = "0-9"; break;
	case 's': body = "[:space:]"; break;
	default: return false;
	}
	if (in_bracket)
		dd_buf_puts(b, body);
	else
		dd_buf_printf(b, "[%s]", body);
	return true;
}

/* Translates a bracket expression starting at p[0] == '['; returns chars consumed or 0. */
static size_t translate_bracket(const char *p, struct dd_buf *out)
{
	size_t i = 1;
	bool neg = false, dash = false, rbracket = false;
	struct dd_buf items;
	dd_buf_init(&items, 4096);
	if (p[i] == '^') {
		neg = true;
		i++;
	}
	for (; p[i] && p[i] != ']'; i++) {
		char c = p[i];
		if (c == '\\') {
			char e = p[++i];
			if (!e) goto fail;
			if (e == 'w' || e == 'd' || e == 's') {
				add_class(&items, e, true);
			} else if (e == '-') {
				dash = true;
			} else if (e == ']') {
				rbracket = true;
			} else if (e == '\\' || e == '.' || e == '/' || e == '[' || e == '$' ||
				   e == '*' || e == '+' || e == '?' || e == '(' || e == ')' ||
				   e == '{' || e == '}' || e == '^' || e == '|' || e == '!') {
				if (e == '^')
					dd_buf_puts(&items, "^");
				else
					dd_buf_putc(&items, e);
			} else if (e == 'n') {
				dd_buf_putc(&items, '\n');
			} else if (e == 't') {
				dd_buf_putc(&items, '\t');
			} else if (e == 'r') {
				dd_buf_putc(&items, '\r');
			} else {
				goto fail; /* \p{..}, \x.., \S, \W, \D, \u.... */
			}
		} else if (c == '-') {
			/* A range a-z stays; a leading or trailing dash is literal. */
			if (items.len > 0 && p[i + 1] && p[i + 1] != ']') {
				dd_buf_putc(&items, '-');
			} else {
				dash = true;
			}
		} else if (c == '[') {
			goto fail;
		} else {
			dd_buf_putc(&items, c);
		}
	}
	if (p[i] != ']')
		goto fail;
	/* '^' must not lead a bracket's items in POSIX. */
	if (items.len > 0 && items.data[0] == '^' && !neg) {
		memmove(items.data, items.data + 1, items.len - 1);
		items.data[items.len - 1] = '^';
	}
	dd_buf_putc(out, '[');
	if (neg)
		dd_buf_putc(out, '^');
	if (rbracket)
		dd_buf_putc(out, ']');
	if (items.len)
		dd_buf_append(out, items.data, items.len);
	if (dash)
		dd_buf_putc(out, '-');
	dd_buf_putc(out, ']');
	dd_buf_free(&items);
	return i + 1;
fail:
	dd_buf_free(&items);
	return 0;
}

static char *translate_pattern(const char *p)
{
	if (strcmp(p, "[\\s\\S]*") == 0 || strcmp(p, ".*") == 0)
		return NULL; /* matches everything */
	struct dd_buf b;
	dd_buf_init(&b, 8192);
	dd_buf_puts(&b, "^(");
	for (size_t i = 0; p[i];) {
		char c = p[i];
		if (c == '[') {
			size_t n = translate_bracket(p + i, &b);
			if (!n)
				goto fail;
			i += n;
		} else if (c == '\\') {
			char e = p[i + 1];
			if (!e)
				goto fail;
			if (add_class(&b, e, false)) {
				/* done */
			} else if (strchr(".[]()*+?{}|^$\\/-", e)) {
				if (e == '/' || e == '-')
					dd_buf_putc(&b, e);
				else
					dd_buf_printf(&b, "\\%c", e);
			} else {
				goto fail;
			}
			i += 2;
		} else {
			dd_buf_putc(&b, c);
			i++;
		}
	}
	dd_buf_puts(&b, ")$");
	return dd_buf_take(&b);
fail:
	dd_buf_free(&b);
	return NULL;
}

static int pattern_index(const char *pattern)
{
	for (int i = 0; i < npatterns; i++)
		if (strcmp(patterns[i].pattern, pattern) == 0)
			return i;
	if (npatterns >= MAX_PATTERNS)
		return -1;
	int i = npatterns++;
	patterns[i].pattern = strdup(pattern);
	char *ere = translate_pattern(pattern);
	patterns[i].ok = ere && regcomp(&patterns[i].rx, ere, REG_EXTENDED | REG_NOSUB) == 0;
	if (!patterns[i].ok)
		dd_log_debug("model: pattern %s not enforced", pattern);
	free(ere);
	return i;
}

/* ---- loading ----------------------------------------------------------------------- */

static int seg_key_cmp(const void *a, const void *b)
{
	const struct seg_key *x = a, *y = b;
	int c = strcmp(x->seg, y->seg);
	return c ? c : x->pos - y->pos;
}

/* Builds m's route index over its loaded routes. */
static int index_routes(struct dd_model *m)
{
	m->index = calloc((size_t)m->nroutes + 1, sizeof *m->index);
	m->wild = calloc((size_t)m->nroutes + 1, sizeof *m->wild);
	if (!m->index || !m->wild)
		return DD_ENOMEM;
	for (int i = 0; i < m->nroutes; i++) {
		const struct route *r = &m->routes[i];
		const char *seg = r->nseg ? r->seg[0] : "";
		if (seg[0] == '{')
			m->wild[m->nwild++] = i;
		else
			m->index[m->nindex++] = (struct seg_key){ seg, i };
	}
	qsort(m->index, (size_t)m->nindex, sizeof *m->index, seg_key_cmp);
	return 0;
}

static int load_routes(struct dd_model *m)
{
	const char *name;
	json_t *op;
	size_t total = 0;
	json_object_foreach(m->ops, name, op) {
		const char *uri = json_string_value(json_object_get(json_object_get(op, "http"), "requestUri"));
		total += uri ? strlen(uri) + 1 : 0;
	}
	m->routes = calloc(json_object_size(m->ops) + 1, sizeof *m->routes);
	m->seg_store = malloc(total + 1);
	if (!m->routes || !m->seg_store)
		return DD_ENOMEM;
	char *store = m->seg_store;
	json_object_foreach(m->ops, name, op) {
		json_t *http = json_object_get(op, "http");
		const char *uri = json_string_value(json_object_get(http, "requestUri"));
		const char *method = json_string_value(json_object_get(http, "method"));
		if (!uri || !method)
			continue;
		struct route *r = &m->routes[m->nroutes];
		r->op_name = name;
		r->method = method;
		size_t ulen = strcspn(uri, "?");
		memcpy(store, uri, ulen);
		store[ulen] = '\0';
		char *s = store;
		store += ulen + 1;
		while (*s == '/')
			s++;
		while (*s && r->nseg < MAX_SEGS) {
			char *slash = strchr(s, '/');
			if (slash)
				*slash = '\0';
			r->seg[r->nseg++] = s;
			if (s[0] != '{')
				r->literals++;
			if (!slash)
				break;
			s = slash + 1;
		}
		m->nroutes++;
	}
	return index_routes(m);
}

static void index_patterns(json_t *shapes)
{
	const char *name;
	json_t *shape;
	json_object_foreach(shapes, name, shape) {
		const char *p = json_string_value(json_object_get(shape, "pattern"));
		if (p) {
			int i = pattern_index(p);
			if (i >= 0)
				json_object_set_new(shape, "__rx", json_integer(i));
		}
	}
}

int dd_models_load(void)
{
	if (nmodels)
		return 0;
	for (const struct dd_model_source *s = dd_model_sources; s->service; s++) {
		json_error_t e;
		struct dd_model *m = &models[nmodels];
		m->root = json_loadb(s->json, s->len, 0, &e);
		if (!m->root) {
			dd_log_error("model %s: %s", s->service, e.text);
			return DD_EINVAL;
		}
		m->service = s->service;
		m->ops = json_object_get(m->root, "operations");
		m->shapes = json_object_get(m->root, "shapes");
		const char *proto = json_string_value(json_object_get(json_object_get(m->root, "metadata"), "protocol"));
		if (proto && strcmp(proto, "query") == 0)
			m->proto = DD_PROTO_QUERY;
		else if (proto && strcmp(proto, "json") == 0)
			m->proto = DD_PROTO_JSON;
		else
			m->proto = DD_PROTO_REST_JSON;
		index_patterns(m->shapes);
		if (m->proto == DD_PROTO_REST_JSON && load_routes(m))
			return DD_ENOMEM;
		nmodels++;
	}
	return 0;
}

void dd_models_free(void)
{
	for (int i = 0; i < nmodels; i++) {
		json_decref(models[i].root);
		free(models[i].routes);
		free(models[i].seg_store);
		free(models[i].index);
		free(models[i].wild);
		models[i].nroutes = 0; /* load_routes appends from nroutes */
		models[i].nindex = 0;
		models[i].nwild = 0;
	}
	nmodels = 0;
	for (int i = 0; i < npatterns; i++) {
		if (patterns[i].ok)
			regfree(&patterns[i].rx);
		free(patterns[i].pattern);
	}
	npatterns = 0;
}

const struct dd_model *dd_model_get(const char *service)
{
	for (int i = 0; i < nmodels; i++)
		if (strcmp(models[i].service, service) == 0)
			return &models[i];
	return NULL;
}

enum dd_protocol dd_model_protocol(const struct dd_model *m) { return m->proto; }

const char *dd_model_xml_namespace(const struct dd_model *m)
{
	return json_string_value(json_object_get(json_object_get(m->root, "metadata"), "xmlNamespace"));
}

const char *dd_model_api_version(const struct dd_model *m)
{
	const char *v = json_string_value(json_object_get(json_object_get(m->root, "metadata"), "apiVersion"));
	return v ? v : "";
}

const char *dd_model_target_prefix(const struct dd_model *m)
{
	return json_string_value(json_object_get(json_object_get(m->root, "metadata"), "targetPrefix"));
}

/* An operation handle is its JSON object; the name is kept in a side member. */
const struct dd_model_op *dd_model_op_find(const struct dd_model *m, const char *name)
{
	return (const struct dd_model_op *)json_object_get(m->ops, name);
}

const char *dd_model_op_name(const struct dd_model_op *op)
{
	return json_string_value(json_object_get((json_t *)op, "name"));
}

static json_t *op_json(const struct dd_model_op *op) { return (json_t *)op; }

static json_t *shape_of(const struct dd_model *m, json_t *ref)
{
	return json_object_get(m->shapes, json_string_value(json_object_get(ref, "shape")));
}

/* Which model an operation belongs to (ops are few; a linear scan is cheap). */
static const struct dd_model *model_of(const struct dd_model_op *op)
{
	for (int i = 0; i < nmodels; i++) {
		const char *n = dd_model_op_name(op);
		if (n && json_object_get(models[i].ops, n) == op_json(op))
			return &models[i];
	}
	return NULL;
}

/* Route r against the request's segments: sets *method_mismatch when the path matches
 * under another method, and makes r *best when it matches and has more literal segments
 * than *best, or as many and comes first in the table. */
static void route_try(const struct route *r, const char *method, const char *const *segs, int nseg,
		      const struct route **best, bool *method_mismatch)
{
	bool greedy = r->nseg > 0 && strstr(r->seg[r->nseg - 1], "+}") != NULL;
	if (greedy ? nseg < r->nseg : nseg != r->nseg)
		return;
	for (int k = 0; k < r->nseg; k++)
		if (r->seg[k][0] != '{' ? strcmp(r->seg[k], segs[k]) != 0 : segs[k][0] == '\0')
			return;
	if (strcmp(r->method, method) != 0) {
		*method_mismatch = true;
		return;
	}
	if (!*best || r->literals > (*best)->literals || (r->literals == (*best)->literals && r < *best))
		*best = r;
}

const struct dd_model_op *dd_model_route(const struct dd_model *m, const char *method,
					 const char *raw_path, json_t *labels,
					 bool *method_mismatch)
{
	char path[2048];
	*method_mismatch = false;
	size_t plen = strlen(raw_path);
	if (plen >= sizeof path)
		return NULL;
	memcpy(path, raw_path, plen + 1);
	const char *segs[64];
	int nseg = 0;
	char *s = path;
	while (*s == '/')
		s++;
	while (*s && nseg < 64) {
		char *slash = strchr(s, '/');
		if (slash)
			*slash = '\0';
		segs[nseg++] = s;
		if (!slash)
			break;
		s = slash + 1;
	}
	/* The candidates: the routes whose literal first segment is the request's (a route
	 * with another cannot match), then those whose first segment is a label. Under every
	 * method, since a match under another one is a method mismatch. */
	struct seg_key key = { nseg ? segs[0] : "", -1 };
	int lo = 0, hi = m->nindex;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (seg_key_cmp(&m->index[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	const struct route *best = NULL;
	for (int j = lo; j < m->nindex && strcmp(m->index[j].seg, key.seg) == 0; j++)
		route_try(&m->routes[m->index[j].pos], method, segs, nseg, &best, method_mismatch);
	for (int j = 0; j < m->nwild; j++)
		route_try(&m->routes[m->wild[j]], method, segs, nseg, &best, method_mismatch);
	if (!best)
		return NULL;
	*method_mismatch = false;
	for (int k = 0; k < best->nseg; k++) {
		const char *t = best->seg[k];
		if (t[0] != '{')
			continue;
		size_t tl = strlen(t);
		bool greedy = tl > 3 && t[tl - 2] == '+';
		char name[128];
		size_t nl = tl - 2 - (greedy ? 1 : 0);
		if (nl >= sizeof name)
			return NULL;
		memcpy(name, t + 1, nl);
		name[nl] = '\0';
		char *val;
		if (greedy) {
			/* rest of the raw path, from this segment on */
			size_t off = (size_t)(segs[k] - path);
			val = dd_uri_decode(raw_path + off, strlen(raw_path + off), false);
		} else {
			val = dd_uri_decode(segs[k], strlen(segs[k]), false);
		}
		if (!val)
			return NULL;
		json_object_set_new(labels, name, json_string(val));
		free(val);
	}
	return (const struct dd_model_op *)json_object_get(m->ops, best->op_name);
}

/* one segment of a URI template against one of the path: a literal matches itself, a
 * label any non-empty segment, a greedy label the rest; counts the literals */
static bool tmpl_match(const char *t, const char *path, bool *greedy_out, int *literals)
{
	*literals = 0;
	*greedy_out = false;
	while (*t == '/')
		t++;
	while (*path == '/')
		path++;
	for (;;) {
		size_t tl = strcspn(t, "/"), pl = strcspn(path, "/");
		if (!tl)
			return !pl;
		if (t[0] == '{') {
			if (tl > 3 && t[tl - 2] == '+') {
				*greedy_out = true;
				return pl > 0;
			}
			if (!pl)
				return false;
		} else {
			if (tl != pl || strncmp(t, path, tl) != 0)
				return false;
			(*literals)++;
		}
		t += tl;
		path += pl;
		if (*t == '/')
			t++;
		if (*path == '/')
			path++;
		if (!*t || !*path)
			return !*t && !*path;
	}
}

/* The index of dd_iot_all_routes: one entry a route, sorted by method, first path segment
 * (every IoT template starts with a literal one) and table position, so the candidates of
 * a request are one contiguous run found by binary search; routes whose first segment is
 * a label (none in today's model) are kept apart and always tried. Built once. */
struct route_key {
	const char *method;
	const char *seg;  /* the template's first segment, not terminated */
	size_t seglen;
	int pos;          /* position in dd_iot_all_routes: the first of equals wins */
};

static struct route_key *iot_index;
static size_t iot_nindex;
static int iot_wild[16];
static size_t iot_nwild;
static pthread_once_t iot_index_once = PTHREAD_ONCE_INIT;

static int route_key_cmp(const void *a, const void *b)
{
	const struct route_key *x = a, *y = b;
	int c = strcmp(x->method, y->method);
	if (c)
		return c;
	size_t n = x->seglen < y->seglen ? x->seglen : y->seglen;
	c = memcmp(x->seg, y->seg, n);
	if (c)
		return c;
	if (x->seglen != y->seglen)
		return x->seglen < y->seglen ? -1 : 1;
	return x->pos - y->pos;
}

static void first_segment(const char *path, const char **seg, size_t *len)
{
	while (*path == '/')
		path++;
	*seg = path;
	*len = strcspn(path, "/");
}

static void iot_index_build(void)
{
	size_t n = 0;
	while (dd_iot_all_routes[n].method)
		n++;
	iot_index = calloc(n ? n : 1, sizeof *iot_index);
	if (!iot_index)
		return;  /* lookups fall back to the scan */
	for (size_t i = 0; i < n; i++) {
		const char *seg;
		size_t len;
		first_segment(dd_iot_all_routes[i].uri, &seg, &len);
		if (seg[0] == '{' && iot_nwild < sizeof iot_wild / sizeof iot_wild[0]) {
			iot_wild[iot_nwild++] = (int)i;
			continue;
		}
		if (seg[0] == '{') {
			free(iot_index);  /* more label-first routes than expected: scan */
			iot_index = NULL;
			return;
		}
		iot_index[iot_nindex++] = (struct route_key){ dd_iot_all_routes[i].method, seg, len, (int)i };
	}
	qsort(iot_index, iot_nindex, sizeof *iot_index, route_key_cmp);
}

/* route at table position i against the request; better than (best, best_lit, best_pos)? */
static void iot_try(int i, const char *raw_path, const char **best, int *best_lit, int *best_pos)
{
	bool greedy;
	int lit;
	if (!tmpl_match(dd_iot_all_routes[i].uri, raw_path, &greedy, &lit))
		return;
	if (lit > *best_lit || (lit == *best_lit && i < *best_pos)) {
		*best = dd_iot_all_routes[i].op;
		*best_lit = lit;
		*best_pos = i;
	}
}

const char *dd_model_route_any_iot(const char *method, const char *raw_path)
{
	const char *best = NULL;
	int best_lit = -1, best_pos = -1;
	pthread_once(&iot_index_once, iot_index_build);
	if (!iot_index) {
		for (int i = 0; dd_iot_all_routes[i].method; i++)
			if (strcmp(dd_iot_all_routes[i].method, method) == 0)
				iot_try(i, raw_path, &best, &best_lit, &best_pos);
		return best;
	}
	struct route_key k = { method, NULL, 0, -1 };
	first_segment(raw_path, &k.seg, &k.seglen);
	/* lower bound of (method, segment, -1): the first candidate */
	size_t lo = 0, hi = iot_nindex;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (route_key_cmp(&iot_index[mid], &k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t j = lo; j < iot_nindex; j++) {
		const struct route_key *e = &iot_index[j];
		if (strcmp(e->method, method) || e->seglen != k.seglen || memcmp(e->seg, k.seg, k.seglen))
			break;
		iot_try(e->pos, raw_path, &best, &best_lit, &best_pos);
	}
	for (size_t j = 0; j < iot_nwild; j++)
		if (strcmp(dd_iot_all_routes[iot_wild[j]].method, method) == 0)
			iot_try(iot_wild[j], raw_path, &best, &best_lit, &best_pos);
	return best;
}

/* ---- validation -------------------------------------------------------------------- */

static size_t utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static int verr(char *err, size_t errlen, const char *path, const char *what)
{
	snprintf(err, errlen, "1 validation error detected: Value at '%s' failed to satisfy constraint: %s",
		 path, what);
	return DD_EINVAL;
}

static int validate(const struct dd_model *m, json_t *shape, json_t *v, const char *path,
		    char *err, size_t errlen, int depth)
{
	if (depth > 32)
		return verr(err, errlen, path, "Member nesting is too deep");
	const char *type = json_string_value(json_object_get(shape, "type"));
	if (!type)
		return 0;
	json_t *jmin = json_object_get(shape, "min"), *jmax = json_object_get(shape, "max");
	char sub[512], msg[512];
	if (strcmp(type, "structure") == 0) {
		if (!json_is_object(v))
			return verr(err, errlen, path, "Member must be a structure");
		json_t *req;
		size_t i;
		json_array_foreach(json_object_get(shape, "required"), i, req) {
			const char *rn = json_string_value(req);
			json_t *rv = json_object_get(v, rn);
			if (!rv || json_is_null(rv)) {
				snprintf(err, errlen,
					 "1 validation error detected: Value null at '%s%s%s' failed to satisfy constraint: Member must not be null",
					 path, *path ? "." : "", rn);
				return DD_EINVAL;
			}
		}
		const char *mn;
		json_t *mref;
		json_object_foreach(json_object_get(shape, "members"), mn, mref) {
			json_t *mv = json_object_get(v, mn);
			if (!mv || json_is_null(mv))
				continue;
			snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", mn);
			int rc = validate(m, shape_of(m, mref), mv, sub, err, errlen, depth + 1);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (strcmp(type, "list") == 0) {
		if (!json_is_array(v))
			return verr(err, errlen, path, "Member must be a list");
		size_t n = json_array_size(v);
		if (jmin && (json_int_t)n < json_integer_value(jmin)) {
			snprintf(msg, sizeof msg, "Member must have length greater than or equal to %lld",
				 (long long)json_integer_value(jmin));
			return verr(err, errlen, path, msg);
		}
		if (jmax && (json_int_t)n > json_integer_value(jmax)) {
			snprintf(msg, sizeof msg, "Member must have length less than or equal to %lld",
				 (long long)json_integer_value(jmax));
			return verr(err, errlen, path, msg);
		}
		json_t *mshape = shape_of(m, json_object_get(shape, "member"));
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			snprintf(sub, sizeof sub, "%s.%zu.member", path, i + 1);
			int rc = validate(m, mshape, e, sub, err, errlen, depth + 1);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (strcmp(type, "map") == 0) {
		if (!json_is_object(v))
			return verr(err, errlen, path, "Member must be a map");
		size_t n = json_object_size(v);
		if (jmax && (json_int_t)n > json_integer_value(jmax))
			return verr(err, errlen, path, "Member has too many entries");
		json_t *kshape = shape_of(m, json_object_get(shape, "key"));
		json_t *vshape = shape_of(m, json_object_get(shape, "value"));
		const char *k;
		json_t *e;
		json_object_foreach(v, k, e) {
			snprintf(sub, sizeof sub, "%s.%s", path, k);
			json_t *ks = json_string(k);
			int rc = validate(m, kshape, ks, sub, err, errlen, depth + 1);
			json_decref(ks);
			if (!rc)
				rc = validate(m, vshape, e, sub, err, errlen, depth + 1);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (strcmp(type, "string") == 0) {
		if (!json_is_string(v))
			return verr(err, errlen, path, "Member must be a string");
		const char *s = json_string_value(v);
		size_t n = utf8_len(s);
		if (json_string_length(v) != strlen(s))
			return verr(err, errlen, path, "Member must not contain NUL characters");
		if (jmin && (json_int_t)n < json_integer_value(jmin)) {
			snprintf(msg, sizeof msg, "Member must have length greater than or equal to %lld",
				 (long long)json_integer_value(jmin));
			return verr(err, errlen, path, msg);
		}
		if (jmax && (json_int_t)n > json_integer_value(jmax)) {
			snprintf(msg, sizeof msg, "Member must have length less than or equal to %lld",
				 (long long)json_integer_value(jmax));
			return verr(err, errlen, path, msg);
		}
		json_t *en = json_object_get(shape, "enum");
		if (en) {
			size_t i;
			json_t *e;
			bool found = false;
			json_array_foreach(en, i, e) if (strcmp(json_string_value(e), s) == 0) found = true;
			if (!found) {
				struct dd_buf b;
				dd_buf_init(&b, 4096);
				dd_buf_puts(&b, "Member must satisfy enum value set: [");
				json_array_foreach(en, i, e) {
					if (i)
						dd_buf_puts(&b, ", ");
					dd_buf_puts(&b, json_string_value(e));
				}
				dd_buf_puts(&b, "]");
				snprintf(err, errlen,
					 "1 validation error detected: Value '%.200s' at '%s' failed to satisfy constraint: %s",
					 s, path, b.data ? b.data : "");
				dd_buf_free(&b);
				return DD_EINVAL;
			}
		}
		json_t *rx = json_object_get(shape, "__rx");
		if (rx) {
			int i = (int)json_integer_value(rx);
			if (patterns[i].ok && regexec(&patterns[i].rx, s, 0, NULL, 0) != 0) {
				snprintf(err, errlen,
					 "1 validation error detected: Value '%.200s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s",
					 s, path, patterns[i].pattern);
				return DD_EINVAL;
			}
		}
		return 0;
	}
	if (strcmp(type, "integer") == 0 || strcmp(type, "long") == 0) {
		if (!json_is_integer(v))
			return verr(err, errlen, path, "Member must be an integer");
		json_int_t x = json_integer_value(v);
		if (jmin && x < json_integer_value(jmin)) {
			snprintf(msg, sizeof msg, "Member must have value greater than or equal to %lld",
				 (long long)json_integer_value(jmin));
			return verr(err, errlen, path, msg);
		}
		if (jmax && x > json_integer_value(jmax)) {
			snprintf(msg, sizeof msg, "Member must have value less than or equal to %lld",
				 (long long)json_integer_value(jmax));
			return verr(err, errlen, path, msg);
		}
		return 0;
	}
	if (strcmp(type, "boolean") == 0)
		return json_is_boolean(v) ? 0 : verr(err, errlen, path, "Member must be a boolean");
	if (strcmp(type, "timestamp") == 0 || strcmp(type, "double") == 0 || strcmp(type, "float") == 0)
		return json_is_number(v) ? 0 : verr(err, errlen, path, "Member must be a number");
	if (strcmp(type, "blob") == 0)
		return json_is_string(v) ? 0 : verr(err, errlen, path, "Member must be base64 text");
	return 0;
}

int dd_model_validate_input(const struct dd_model_op *op, json_t *input, char *err, size_t errlen)
{
	const struct dd_model *m = model_of(op);
	json_t *in = json_object_get(op_json(op), "input");
	if (!m || !in)
		return 0;
	return validate(m, shape_of(m, in), input, "", err, errlen, 0);
}

/* ---- restJson1 binding ------------------------------------------------------------- */

static json_t *scalar_from_text(json_t *shape, const char *text, bool *bad)
{
	const char *type = json_string_value(json_object_get(shape, "type"));
	*bad = false;
	if (!type || strcmp(type, "string") == 0 || strcmp(type, "blob") == 0)
		return json_string(text);
	if (strcmp(type, "integer") == 0 || strcmp(type, "long") == 0) {
		int64_t x;
		if (dd_parse_int64(text, INT64_MIN, INT64_MAX, &x)) {
			*bad = true;
			return NULL;
		}
		return json_integer(x);
	}
	if (strcmp(type, "boolean") == 0) {
		if (strcmp(text, "true") == 0)
			return json_true();
		if (strcmp(text, "false") == 0)
			return json_false();
		*bad = true;
		return NULL;
	}
	if (strcmp(type, "timestamp") == 0 || strcmp(type, "double") == 0) {
		char *end = NULL;
		double d = strtod(text, &end);
		if (!end || *end || end == text) {
			struct tm tm;
			memset(&tm, 0, sizeof tm);
			const char *r = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
			if (!r) {
				*bad = true;
				return NULL;
			}
			return json_real((double)timegm(&tm));
		}
		return json_real(d);
	}
	return json_string(text);
}

int dd_model_bind_rest(const struct dd_model_op *op, json_t *labels, const struct dd_kv *query,
		       size_t nquery, dd_header_fn header, void *ud, json_t *body, json_t **out,
		       char *err, size_t errlen)
{
	const struct dd_model *m = model_of(op);
	json_t *inref = json_object_get(op_json(op), "input");
	json_t *input = json_object();
	if (!m || !input)
		goto nomem;
	if (!inref) {
		*out = input;
		return 0;
	}
	json_t *shape = shape_of(m, inref);
	const char *payload = json_string_value(json_object_get(shape, "payload"));
	const char *mn;
	json_t *mref;
	json_object_foreach(json_object_get(shape, "members"), mn, mref) {
		const char *loc = json_string_value(json_object_get(mref, "location"));
		const char *lname = json_string_value(json_object_get(mref, "locationName"));
		if (!lname)
			lname = mn;
		json_t *mshape = shape_of(m, mref);
		const char *mtype = json_string_value(json_object_get(mshape, "type"));
		bool bad = false;
		if (loc && strcmp(loc, "uri") == 0) {
			json_t *v = json_object_get(labels, lname);
			if (v) {
				json_t *sv = scalar_from_text(mshape, json_string_value(v), &bad);
				if (bad)
					goto badval;
				json_object_set_new(input, mn, sv);
			}
		} else if (loc && strcmp(loc, "querystring") == 0) {
			if (mtype && strcmp(mtype, "list") == 0) {
				json_t *arr = NULL;
				json_t *ishape = shape_of(m, json_object_get(mshape, "member"));
				for (size_t i = 0; i < nquery; i++) {
					if (strcmp(query[i].key, lname) != 0)
						continue;
					if (!arr)
						arr = json_array();
					json_t *sv = scalar_from_text(ishape, query[i].value, &bad);
					if (bad) {
						json_decref(arr);
						goto badval;
					}
					json_array_append_new(arr, sv);
				}
				if (arr)
					json_object_set_new(input, mn, arr);
			} else {
				for (size_t i = 0; i < nquery; i++) {
					if (strcmp(query[i].key, lname) != 0)
						continue;
					json_t *sv = scalar_from_text(mshape, query[i].value, &bad);
					if (bad)
						goto badval;
					json_object_set_new(input, mn, sv);
					break;
				}
			}
		} else if (loc && strcmp(loc, "header") == 0) {
			const char *hv = header ? header(ud, lname) : NULL;
			if (hv) {
				json_t *sv = scalar_from_text(mshape, hv, &bad);
				if (bad)
					goto badval;
				json_object_set_new(input, mn, sv);
			}
		} else if (payload && strcmp(payload, mn) == 0) {
			if (body)
				json_object_set(input, mn, body);
		} else if (body && json_is_object(body)) {
			json_t *v = json_object_get(body, lname);
			if (v && !json_is_null(v))
				json_object_set(input, mn, v);
		}
		continue;
badval:
		snprintf(err, errlen, "1 validation error detected: Value at '%s' failed to satisfy constraint: Member must be of type %s",
			 mn, mtype ? mtype : "string");
		json_decref(input);
		return DD_EINVAL;
	}
	if (body && !payload && !json_is_object(body)) {
		snprintf(err, errlen, "The request body must be a JSON object");
		json_decref(input);
		return DD_EINVAL;
	}
	int rc = validate(m, shape, input, "", err, errlen, 0);
	if (rc) {
		json_decref(input);
		return rc;
	}
	*out = input;
	return 0;
nomem:
	json_decref(input);
	snprintf(err, errlen, "out of memory");
	return DD_ENOMEM;
}

/* ---- awsQuery binding -------------------------------------------------------------- */

static const char *form_get(const struct dd_kv *form, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(form[i].key, key) == 0)
			return form[i].value;
	return NULL;
}

static bool form_has_prefix(const struct dd_kv *form, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);
	for (size_t i = 0; i < n; i++)
		if (strncmp(form[i].key, prefix, pl) == 0 && form[i].key[pl] == '.')
			return true;
	return false;
}

static json_t *bind_form(const struct dd_model *m, json_t *shape, const char *key,
			 const struct dd_kv *form, size_t n, bool *bad, int depth)
{
	const char *type = json_string_value(json_object_get(shape, "type"));
	char sub[512];
	if (!type || depth > 16)
		return NULL;
	if (strcmp(type, "structure") == 0) {
		json_t *obj = json_object();
		const char *mn;
		json_t *mref;
		json_object_foreach(json_object_get(shape, "members"), mn, mref) {
			const char *lname = json_string_value(json_object_get(mref, "locationName"));
			if (!lname)
				lname = mn;
			if (*key)
				snprintf(sub, sizeof sub, "%s.%s", key, lname);
			else
				snprintf(sub, sizeof sub, "%s", lname);
			json_t *v = bind_form(m, shape_of(m, mref), sub, form, n, bad, depth + 1);
			if (*bad) {
				json_decref(obj);
				return NULL;
			}
			if (v)
				json_object_set_new(obj, mn, v);
		}
		if (*key && json_object_size(obj) == 0 && !form_has_prefix(form, n, key)) {
			json_decref(obj);
			return NULL;
		}
		return obj;
	}
	if (strcmp(type, "list") == 0) {
		json_t *mref = json_object_get(shape, "member");
		bool flat = json_is_true(json_object_get(shape, "flattened"));
		const char *ml = json_string_value(json_object_get(mref, "locationName"));
		if (!ml)
			ml = "member";
		const char *exact = form_get(form, n, key);
		if (!form_has_prefix(form, n, key))
			return exact && !*exact ? json_array() : NULL;
		json_t *arr = json_array();
		for (int i = 1; i < 1000; i++) {
			if (flat)
				snprintf(sub, sizeof sub, "%s.%d", key, i);
			else
				snprintf(sub, sizeof sub, "%s.%s.%d", key, ml, i);
			if (!form_get(form, n, sub) && !form_has_prefix(form, n, sub))
				break;
			json_t *v = bind_form(m, shape_of(m, mref), sub, form, n, bad, depth + 1);
			if (*bad) {
				json_decref(arr);
				return NULL;
			}
			json_array_append_new(arr, v ? v : json_null());
		}
		return arr;
	}
	if (strcmp(type, "map") == 0) {
		bool flat = json_is_true(json_object_get(shape, "flattened"));
		const char *kl = json_string_value(json_object_get(json_object_get(shape, "key"), "locationName"));
		const char *vl = json_string_value(json_object_get(json_object_get(shape, "value"), "locationName"));
		if (!kl)
			kl = "key";
		if (!vl)
			vl = "value";
		if (!form_has_prefix(form, n, key))
			return NULL;
		json_t *obj = json_object();
		for (int i = 1; i < 1000; i++) {
			char kk[600], vk[600];
			if (flat)
				snprintf(sub, sizeof sub, "%s.%d", key, i);
			else
				snprintf(sub, sizeof sub, "%s.entry.%d", key, i);
			snprintf(kk, sizeof kk, "%s.%s", sub, kl);
			snprintf(vk, sizeof vk, "%s.%s", sub, vl);
			const char *k = form_get(form, n, kk);
			if (!k)
				break;
			json_t *v = bind_form(m, shape_of(m, json_object_get(shape, "value")), vk, form, n, bad, depth + 1);
			if (*bad) {
				json_decref(obj);
				return NULL;
			}
			json_object_set_new(obj, k, v ? v : json_string(""));
		}
		return obj;
	}
	const char *text = form_get(form, n, key);
	if (!text)
		return NULL;
	return scalar_from_text(shape, text, bad);
}

int dd_model_bind_query(const struct dd_model_op *op, const struct dd_kv *form, size_t nform,
			json_t **out, char *err, size_t errlen)
{
	const struct dd_model *m = model_of(op);
	json_t *inref = json_object_get(op_json(op), "input");
	if (!m || !inref) {
		*out = json_object();
		return *out ? 0 : DD_ENOMEM;
	}
	bool bad = false;
	json_t *input = bind_form(m, shape_of(m, inref), "", form, nform, &bad, 0);
	if (bad || !input) {
		json_decref(input);
		snprintf(err, errlen, "1 validation error detected: a parameter has a value of the wrong type");
		return DD_EINVAL;
	}
	int rc = validate(m, shape_of(m, inref), input, "", err, errlen, 0);
	if (rc) {
		json_decref(input);
		return rc;
	}
	*out = input;
	return 0;
}

/* ---- awsQuery XML output ----------------------------------------------------------- */

static void xml_value(const struct dd_model *m, json_t *shape, json_t *v, struct dd_buf *b, int depth);

static void xml_member(const struct dd_model *m, const char *name, json_t *shape, json_t *v,
		       struct dd_buf *b, int depth)
{
	const char *type = json_string_value(json_object_get(shape, "type"));
	if (type && strcmp(type, "list") == 0 && json_is_true(json_object_get(shape, "flattened"))) {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			dd_buf_printf(b, "<%s>", name);
			xml_value(m, shape_of(m, json_object_get(shape, "member")), e, b, depth + 1);
			dd_buf_printf(b, "</%s>", name);
		}
		return;
	}
	dd_buf_printf(b, "<%s>", name);
	xml_value(m, shape, v, b, depth + 1);
	dd_buf_printf(b, "</%s>", name);
}

static void xml_value(const struct dd_model *m, json_t *shape, json_t *v, struct dd_buf *b, int depth)
{
	const char *type = json_string_value(json_object_get(shape, "type"));
	if (!type || depth > 32)
		return;
	if (strcmp(type, "structure") == 0) {
		const char *mn;
		json_t *mref;
		json_object_foreach(json_object_get(shape, "members"), mn, mref) {
			json_t *mv = json_object_get(v, mn);
			if (!mv || json_is_null(mv))
				continue;
			const char *lname = json_string_value(json_object_get(mref, "locationName"));
			xml_member(m, lname ? lname : mn, shape_of(m, mref), mv, b, depth);
		}
	} else if (strcmp(type, "list") == 0) {
		json_t *mref = json_object_get(shape, "member");
		const char *ml = json_string_value(json_object_get(mref, "locationName"));
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) xml_member(m, ml ? ml : "member", shape_of(m, mref), e, b, depth);
	} else if (strcmp(type, "map") == 0) {
		const char *k;
		json_t *e;
		json_object_foreach(v, k, e) {
			dd_buf_puts(b, "<entry><key>");
			dd_buf_xml_escape(b, k);
			dd_buf_puts(b, "</key><value>");
			xml_value(m, shape_of(m, json_object_get(shape, "value")), e, b, depth + 1);
			dd_buf_puts(b, "</value></entry>");
		}
	} else if (strcmp(type, "timestamp") == 0) {
		if (json_is_number(v)) {
			double d = json_number_value(v);
			time_t t = (time_t)d;
			struct tm tm;
			gmtime_r(&t, &tm);
			char ts[64];
			strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
			dd_buf_puts(b, ts);
		} else if (json_is_string(v)) {
			dd_buf_xml_escape(b, json_string_value(v));
		}
	} else if (strcmp(type, "boolean") == 0) {
		dd_buf_puts(b, json_is_true(v) ? "true" : "false");
	} else if (json_is_string(v)) {
		dd_buf_xml_escape(b, json_string_value(v));
	} else if (json_is_integer(v)) {
		dd_buf_printf(b, "%lld", (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		dd_buf_printf(b, "%.17g", json_real_value(v));
	}
}

int dd_model_xml_response(const struct dd_model *m, const struct dd_model_op *op,
			  json_t *output, const char *request_id, struct dd_buf *xml)
{
	const char *name = dd_model_op_name(op);
	const char *ns = dd_model_xml_namespace(m);
	dd_buf_printf(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%sResponse xmlns=\"%s\">", name,
		      ns ? ns : "");
	json_t *outref = json_object_get(op_json(op), "output");
	if (outref) {
		const char *wrapper = json_string_value(json_object_get(outref, "resultWrapper"));
		if (wrapper)
			dd_buf_printf(xml, "<%s>", wrapper);
		if (output)
			xml_value(m, shape_of(m, outref), output, xml, 0);
		if (wrapper)
			dd_buf_printf(xml, "</%s>", wrapper);
	}
	dd_buf_printf(xml, "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>",
		      request_id, name);
	return xml->failed ? DD_ENOMEM : 0;
}
