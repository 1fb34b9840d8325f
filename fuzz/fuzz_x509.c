/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the X.509 parsers: the input is a certificate (PEM or DER), a PEM
 * key or a PEM certificate request. It runs dd_x509_parse (RegisterCertificate and
 * friends), dd_x509_key_facts_from_pem (the CSR and key checks), the CSR path of
 * CreateCertificateFromCsr (dd_x509_issue_from_csr with a CA made at start-up) and
 * dd_x509_verify_issued_by, and checks that a certificate issued from a CSR parses and
 * verifies against the CA that issued it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dd/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *ca_cert, *ca_key;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ca_cert && dd_x509_ca_create("Fuzz CA", &ca_cert, &ca_key) != 0)
		abort();
	if (size > 70000)
		return 0;
	char err[512];
	struct dd_cert_facts f;
	if (dd_x509_parse(data, size, &f, err, sizeof err) == 0) {
		struct dd_cert_facts g;
		/* the re-encoded PEM parses to the same certificate */
		if (dd_x509_parse(f.pem, strlen(f.pem), &g, err, sizeof err) != 0 || strcmp(f.id, g.id) != 0)
			abort();
		dd_x509_facts_clear(&g);
		(void)dd_x509_verify_issued_by(f.pem, f.pem);
		(void)dd_x509_verify_issued_by(f.pem, ca_cert);
		dd_x509_facts_clear(&f);
	}
	if (dd_x509_key_facts_from_pem(data, size, NULL, &f, err, sizeof err) == 0)
		dd_x509_facts_clear(&f);
	if (dd_x509_rsa_modulus_facts(data, size, &f) == 0)
		dd_x509_facts_clear(&f);

	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	char *issued = NULL;
	if (dd_x509_issue_from_csr(ca_cert, ca_key, s, 365, &issued, err, sizeof err) == 0) {
		if (dd_x509_parse(issued, strlen(issued), &f, err, sizeof err) != 0)
			abort();
		dd_x509_facts_clear(&f);
		if (dd_x509_verify_issued_by(issued, ca_cert) != 0)
			abort();
		free(issued);
	}
	(void)dd_x509_verify_issued_by(s, ca_cert);
	free(s);
	return 0;
}
