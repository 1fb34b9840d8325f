/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to the store layer (the .c files of src/store, and tests that build raw fixtures):
 * the backend-neutral statement interface every aggregate file is written against. A
 * connection hands out prepared statements cached by the SQL text's address (callers pass
 * string literals); parameters are bound by 1-based index, a step yields a row or the end,
 * and columns are read by 0-based index. The SQL is written in the dialect SQLite and
 * PostgreSQL share (?N parameters, ON CONFLICT, no rowid, coalesce, CASE instead of a
 * boolean used as a number, no negative LIMIT); integer parameters are 64-bit, text ones
 * take the type of what they are compared with, and a comparison read as an integer
 * column is 1 or 0 on both. Nothing above src/store/
 * includes this header; they call the typed functions of src/store/dd_store_<aggregate>.h.
 */
#ifndef DD_STORE_INT_H
#define DD_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "dd/store.h"

/* A prepared statement of a connection; owned by the connection. */
struct dd_stmt;

/* What dd_stmt_step returns. */
enum {
	DD_STMT_ERROR = 1,      /* any failure (logged) */
	DD_STMT_CONSTRAINT = 19, /* a UNIQUE, PRIMARY KEY, CHECK or FOREIGN KEY violation */
	DD_STMT_ROW = 100,      /* a row is ready to be read */
	DD_STMT_DONE = 101,     /* no (more) rows */
};

/* A prepared statement for sql (a string literal: cached by address), reset and with its
 * bindings cleared. NULL on a prepare error (logged). */
struct dd_stmt *dd_db_stmt(struct dd_db *db, const char *sql);
/* As dd_db_stmt, for a read that may return a large share of a table (an audit's pass over
 * every certificate or connection event): inside a transaction its rows are streamed in
 * bounded memory (PostgreSQL: a server-side cursor fetched in batches), outside one, and
 * on SQLite, it is dd_db_stmt. Stepping other statements on db between its rows is
 * allowed, as for any statement; the transaction must stay open until it is reset. */
struct dd_stmt *dd_db_stmt_scan(struct dd_db *db, const char *sql);
/* True when db is a PostgreSQL connection: for the few statements whose SQL must differ
 * (JSON functions), written as `dd_db_is_pg(db) ? "..." : "..."` (two literals). */
bool dd_db_is_pg(const struct dd_db *db);
/* True when the backend locks rows for a claim: its candidate reads may end with
 * `FOR UPDATE SKIP LOCKED` (PostgreSQL; dd_db_begin_claim then takes no global lock).
 * SQLite has one writer and no such clause: the statement without it. */
bool dd_db_row_locks(const struct dd_db *db);
/* "Now" in epoch milliseconds on PostgreSQL, for the times of leases (dd_store_lease.c,
 * the SNS outbox's): the database server's clock, one clock for every server on the
 * database whatever the skew between their machines'. On SQLite (one machine) those
 * statements bind the caller's clock (dd_time_now_ms) instead. */
#define DD_DB_PG_NOW_MS "(extract(epoch from clock_timestamp()) * 1000)::bigint"
/* Runs sql (no parameters, no rows; several statements allowed) directly: 0 or DD_EIO. */
int dd_db_exec(struct dd_db *db, const char *sql) DD_MUST_CHECK;
/* Rows changed by the last INSERT, UPDATE or DELETE on db. */
int64_t dd_db_changes(struct dd_db *db);

int dd_stmt_step(struct dd_stmt *st);
/* Ends the current execution (keeps the bindings until the next dd_db_stmt). */
void dd_stmt_reset(struct dd_stmt *st);
/* Steps a statement that returns no rows; returns 0, DD_EEXIST on a constraint violation,
 * or DD_EIO (logged). Resets it. */
int dd_step_done(struct dd_stmt *st) DD_MUST_CHECK;
/* Steps a statement that returns one row and puts its first column in *out; returns 0, or
 * DD_EIO when there is no row or on an error. Resets it. */
int dd_store_step_int64(struct dd_stmt *st, int64_t *out) DD_MUST_CHECK;

/* Maps the current row of a listing (the columns of st) and hands it to the caller's
 * callback; returns what that returned: 0 to go on, nonzero to stop. */
typedef int (*dd_stmt_row_fn)(struct dd_stmt *st, void *ctx);
/* How dd_stmt_each ends. */
enum dd_stmt_each_mode {
	DD_EACH_LIST, /* a positive value of row stops the listing: 0 */
	DD_EACH_GET,  /* as DD_EACH_LIST, and DD_ENOTFOUND when there was no row (a get by key) */
	DD_EACH_PASS, /* row's nonzero value, positive or negative, is returned as it is */
};
/* Steps st through its rows, calling row on each until it returns nonzero, then resets st.
 * Returns 0 when the rows ended, row's nonzero value (a positive one as mode says), or
 * DD_EIO when a step fails. The statement's SQL and bindings stay with the caller. */
int dd_stmt_each(struct dd_stmt *st, dd_stmt_row_fn row, void *ctx, enum dd_stmt_each_mode mode) DD_MUST_CHECK;
/* The common listing of two text columns: dd_stmt_each (DD_EACH_PASS) handing columns 0
 * and 1 of each row to fn. */
typedef int (*dd_stmt_text_pair_fn)(const char *first, const char *second, void *ud);
int dd_stmt_each_text_pair(struct dd_stmt *st, dd_stmt_text_pair_fn fn, void *ud) DD_MUST_CHECK;

/* Binding: 0 or nonzero on failure. dd_bind_text copies s (NULL binds NULL);
 * dd_bind_text_static requires s to outlive the step. */
int dd_bind_text(struct dd_stmt *st, int idx, const char *s);
int dd_bind_text_static(struct dd_stmt *st, int idx, const char *s);
int dd_bind_int64(struct dd_stmt *st, int idx, int64_t v);
int dd_bind_null(struct dd_stmt *st, int idx);
int dd_bind_blob(struct dd_stmt *st, int idx, const void *p, size_t n);

/* Columns of the current row. Text is valid until the next step or reset. */
int64_t dd_col_int64(struct dd_stmt *st, int idx);
int dd_col_int(struct dd_stmt *st, int idx);
bool dd_col_is_null(struct dd_stmt *st, int idx);
/* "" for NULL */
const char *dd_col_text(struct dd_stmt *st, int idx);
/* NULL for NULL */
const char *dd_col_text_or_null(struct dd_stmt *st, int idx);
const void *dd_col_blob(struct dd_stmt *st, int idx, size_t *n);

#endif
