#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_attestation.sh - the worker against a prepared Gramine attestation folder
# (--attestation-dir) and tcclient's quote checks (protocol.md §10).
#
# Deterministic: the worker keeps its keys in a --keys-file, so the test learns
# the keys from a first start, then writes a quote binding them (sgxquote.py,
# independent of libtcw) before the next start reads it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SGXQ="$(dirname "$0")/sgxquote.py"
ATT="$TEST_TMP/attestation"
KEYS="$TEST_TMP/worker.keys"
SIGNUP="$TEST_TMP/signup.json"
MRE=404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f
MRS=808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f
OTHER=1111111111111111111111111111111111111111111111111111111111111111

sgxq() {
	"$PYTHON" "$SGXQ" "$@"
}

# Starts the worker on the prepared folder with the kept keys.
start_att_worker() {
	start_worker --rsa-bits 2048 --keys-file "$KEYS" --attestation-dir "$ATT" "$@"
}

# Fails unless the worker log has exactly N warnings about attestation
# (other modules may warn about unrelated things, e.g. under ASan).
expect_warnings() {
	local n
	n=$(grep ' WARN ' "$WORKER_LOG" | grep -cE 'attestation|quote|target_info|mrenclave|REPORTDATA' || true)
	[ "$n" -eq "$1" ] || {
		cat "$WORKER_LOG" >&2
		fail "$2: $n attestation warnings in the worker log, expected $1"
	}
}

mkdir "$ATT"
printf 'dcap\n' >"$ATT/attestation_type"
sgxq targetinfo "$ATT/my_target_info"
[ "$(stat -c %s "$ATT/my_target_info")" -eq 512 ] || fail "my_target_info is not 512 bytes"

# ---- 1. No quote yet: mrenclave from my_target_info, report data written, one warning.
start_att_worker
expect_grep "$WORKER_LOG" ' INFO attestation type: dcap$' "attestation_type is logged"
expect_grep "$WORKER_LOG" " INFO mrenclave: $MRE\$" "mrenclave is logged"
expect_grep "$WORKER_LOG" ' WARN attestation under .* incomplete \(quote: No such file or directory\); signup quote: empty, mrenclave: set$' \
	"missing quote: one warning naming it"
expect_warnings 1 "missing quote"
sgxq check "$ENDPOINT" "$ATT" --layout 1 --no-quote || fail "signup without quote"
run_client --workload python-hello --in-data first --save-signup "$SIGNUP"
expect_rc 0 "client against a worker without quote"
echo "Work order result : Hello first" | expect_file "$OUT" "first order"
expect_no_grep "$ERR" '^worker quote:' "no quote lines without a quote"
stop_worker
[ -s "$SIGNUP" ] || fail "--save-signup wrote nothing"

# ---- 2. A DCAP v3 quote that binds the verifying key.
sgxq make "$ATT/quote" --version 3 --signup "$SIGNUP" --layout 1
start_att_worker
expect_warnings 0 "complete attestation folder"
expect_grep "$WORKER_LOG" " INFO quote: DCAP v3, 1436 bytes, MRENCLAVE $MRE, MRSIGNER $MRS, ISVPRODID 4660, ISVSVN 7\$" \
	"the worker logs what its quote says"
sgxq check "$ENDPOINT" "$ATT" --layout 1 || fail "signup with a DCAP v3 quote"
rd=$(sgxq report-data "$SIGNUP" --layout 1)
[ "$(od -An -v -tx1 "$ATT/user_report_data" | tr -d ' \n')" = "$rd" ] ||
	fail "user_report_data is not SHA-256(verifying_key) || 32 zero bytes"
[ "${rd:64}" = "$(printf '0%.0s' {1..64})" ] || fail "layout 1: second half not zero"

run_client --workload python-hello --in-data bound
expect_rc 0 "client accepts a binding quote"
echo "Work order result : Hello bound" | expect_file "$OUT" "binding quote order"
expect_file <(grep '^worker quote:' "$ERR") "quote lines printed by tcclient" <<EOF
worker quote: format: DCAP v3 (version 3, attestation key type 2), 1436 bytes
worker quote: MRENCLAVE: $MRE
worker quote: MRSIGNER: $MRS
worker quote: ISVPRODID: 4660
worker quote: ISVSVN: 7
worker quote: REPORTDATA binds the signup keys: SHA-256(verifying_key) || 32 zero bytes
worker quote: signature: not verified (needs Intel's collateral, see docs/sgx.md)
EOF

# --expect-mrenclave / --expect-mrsigner: a match passes (any case), a mismatch is fatal.
run_client --workload python-hello --in-data m1 --expect-mrenclave "${MRE^^}" --expect-mrsigner "$MRS"
expect_rc 0 "matching --expect-mrenclave/--expect-mrsigner"
run_client --workload python-hello --in-data m2 --expect-mrenclave "$OTHER"
expect_rc 1 "wrong --expect-mrenclave"
expect_grep "$ERR" "^tcclient: quote MRENCLAVE $MRE does not match --expect-mrenclave $OTHER\$" \
	"mrenclave mismatch message"
[ ! -s "$OUT" ] || fail "no work order may be sent after an MRENCLAVE mismatch"
run_client --workload python-hello --in-data m3 --expect-mrsigner "$OTHER"
expect_rc 1 "wrong --expect-mrsigner"
expect_grep "$ERR" "^tcclient: quote MRSIGNER $MRS does not match --expect-mrsigner $OTHER\$" \
	"mrsigner mismatch message"
run_client --workload python-hello --in-data m4 --expect-mrenclave abc
expect_rc 2 "malformed --expect-mrenclave"

# Offline inspection of the same quote, raw and base64, against the saved signup.
# Usage: run_quote [tcclient quote args...]; stdout in $OUT, stderr in $ERR, status in $RC.
run_quote() {
	OUT="$TEST_TMP/q.out"
	ERR="$TEST_TMP/q.err"
	RC=0
	"$TCCLIENT" quote "$@" >"$OUT" 2>"$ERR" || RC=$?
}
run_quote "$ATT/quote" --signup "$SIGNUP"
expect_rc 0 "tcclient quote FILE --signup"
expect_grep "$TEST_TMP/q.out" "^REPORTDATA: $rd\$" "tcclient quote prints REPORTDATA"
expect_grep "$TEST_TMP/q.out" '^ATTRIBUTES: 05000000000000000300000000000000$' "ATTRIBUTES"
expect_grep "$TEST_TMP/q.out" '^REPORTDATA binds the signup keys: ' "offline binding check"
base64 -w0 "$ATT/quote" >"$TEST_TMP/quote.b64"
cp "$TEST_TMP/q.out" "$TEST_TMP/raw.out"
run_quote "$TEST_TMP/quote.b64" --signup "$SIGNUP" --expect-mrenclave "$MRE"
expect_rc 0 "tcclient quote on base64 text"
diff -u "$TEST_TMP/raw.out" "$OUT" >&2 || fail "base64 and raw quote files print differently"
run_quote --signup "$SIGNUP"
expect_rc 1 "tcclient quote --signup of a signup without quote"
expect_grep "$ERR" 'the signup carries no quote$' "signup without quote"
stop_worker

# ---- 3. A quote whose REPORTDATA binds other keys: the worker warns, tcclient refuses.
sgxq make "$ATT/quote" --version 3 --report-data "$(printf '%0128x' 1)"
start_att_worker
expect_grep "$WORKER_LOG" " WARN the quote's REPORTDATA is not the report data just written" \
	"worker notices a non-binding quote"
run_client --workload python-hello --in-data unbound
expect_rc 1 "client rejects a non-binding quote"
expect_grep "$ERR" "^tcclient: the quote's REPORTDATA does not bind the signup's verifying_key" \
	"non-binding quote message"
[ ! -s "$OUT" ] || fail "no work order may be sent with a non-binding quote"
run_quote "$ATT/quote" --signup "$SIGNUP"
expect_rc 1 "tcclient quote --signup with a non-binding quote"
stop_worker

# ---- 4. Second layout: --attestation-bind-encryption-key with a DCAP v4 quote.
sgxq make "$ATT/quote" --version 4 --signup "$SIGNUP" --layout 2
start_att_worker --attestation-bind-encryption-key
expect_warnings 0 "layout 2"
sgxq check "$ENDPOINT" "$ATT" --layout 2 || fail "signup with layout 2"
run_client --workload python-hello --in-data both
expect_rc 0 "client accepts a DCAP v4 quote binding both keys"
expect_grep "$ERR" '^worker quote: format: DCAP v4 \(version 4, attestation key type 2\), 1436 bytes$' \
	"v4 format line"
expect_grep "$ERR" '^worker quote: REPORTDATA binds the signup keys: SHA-256\(verifying_key\) \|\| SHA-256\(encryption_key\)$' \
	"layout 2 reported"
stop_worker

# ---- 5. EPID quotes are parsed; TDX quotes are refused.
sgxq make "$ATT/quote" --version 2 --signup "$SIGNUP" --layout 1 --debug
start_att_worker
run_client --workload python-hello --in-data epid --expect-mrenclave "$MRE"
expect_rc 0 "EPID quote"
expect_grep "$ERR" '^worker quote: format: EPID \(version 2, sign type 1\), 1436 bytes$' "EPID format"
expect_grep "$ERR" '^worker quote: WARNING: debug enclave' "debug enclaves are flagged"
stop_worker
sgxq make "$ATT/quote" --version 4 --tee 0x81 --signup "$SIGNUP" --layout 1
start_att_worker
expect_grep "$WORKER_LOG" ' WARN the quote \(1436 bytes\) does not parse: quote.tee_type: TDX' \
	"worker notices a TDX quote"
run_client --workload python-hello --in-data tdx
expect_rc 1 "TDX quote"
expect_grep "$ERR" '^tcclient: quote.tee_type: TDX quotes \(0x81\) are not supported$' "TDX message"
stop_worker

# ---- 6. No attestation folder: one warning, empty fields; an expectation is then fatal.
start_worker --rsa-bits 2048 --keys-file "$KEYS" --attestation-dir "$TEST_TMP/absent"
expect_grep "$WORKER_LOG" "WARN no attestation files at $TEST_TMP/absent \(No such file or directory\)" \
	"absent folder warning"
expect_warnings 1 "absent folder"
run_client --workload python-hello --in-data plain
expect_rc 0 "no quote, no expectation"
run_client --workload python-hello --in-data plain --expect-mrenclave "$MRE"
expect_rc 1 "--expect-mrenclave without a quote"
expect_grep "$ERR" "^tcclient: --expect-mrenclave given, but the worker's signup carries no quote" \
	"missing quote message"
stop_worker

# ---- 7. tcclient quote on broken input.
sgxq make "$TEST_TMP/v3.quote" --version 3 --signup "$SIGNUP" --layout 1
head -c 400 "$TEST_TMP/v3.quote" >"$TEST_TMP/short.quote"
run_quote "$TEST_TMP/short.quote"
expect_rc 1 "truncated quote"
expect_grep "$ERR" '^tcclient: quote: truncated \(400 bytes, header and report need 436\)$' \
	"truncated quote message"
run_quote "$TEST_TMP/missing.quote"
expect_rc 2 "missing quote file"
run_quote
expect_rc 2 "tcclient quote without FILE"

note "ok"
