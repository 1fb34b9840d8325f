/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kept for the files that still include it during the layer redesign: the check table
 * and the check contract now live in core/audit/dd_audit_checks.h.
 */
#ifndef DD_AUDIT_INT_H
#define DD_AUDIT_INT_H

#include "core/audit/dd_audit_checks.h"

#endif
