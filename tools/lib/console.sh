# shellcheck shell=bash
# A guest's console: the lines that report a kernel problem
# (tools/lib/badness), less the known upstream findings.
# Sets nothing for others.
# Sourced by tools/lib/common.sh only.

# splat_lines CONSOLE: the lines of CONSOLE that report a kernel problem
# (at most 20), by the patterns and exclusions in tools/lib/badness, once
# the known upstream findings are taken out (known_findings).
splat_lines() {
	local f=$VMALOCK_TOP/tools/lib/badness
	known_findings "$1" |
		grep -a -E -f <(sed -n 's/^match //p' "$f") |
		grep -a -v -E -f <(sed -n 's/^except //p' "$f") | head -n 20 || true
}

# known_findings CONSOLE: CONSOLE without CR, less each sanitizer report
# whose headline is, exactly, a line of kunit-configs/known-findings
# (banner to banner); each report taken out is named on stderr.
known_findings() {
	python3 - "$1" "$VMALOCK_TOP/kunit-configs/known-findings" <<'PY'
import re, sys
known = set()
try:
    for l in open(sys.argv[2]):
        l = l.strip()
        if l and not l.startswith('#'):
            known.add(l)
except OSError:
    pass
lines = open(sys.argv[1], 'rb').read().decode('utf-8', 'replace').replace('\r', '').split('\n')
banner = re.compile(r'^(\[[ 0-9.]+\] )?={20,}$')
head = re.compile(r'^(?:\[[ 0-9.]+\] )?(BUG: (?:KCSAN|KASAN): .*)$')
out, i, seen = [], 0, {}
while i < len(lines):
    m = head.match(lines[i])
    if m and m.group(1).strip() in known and out and banner.match(out[-1]):
        j = i + 1
        while j < len(lines) and not banner.match(lines[j]):
            j += 1
        out.pop()
        seen[m.group(1).strip()] = seen.get(m.group(1).strip(), 0) + 1
        i = j + 1
        continue
    out.append(lines[i])
    i += 1
for k, n in seen.items():
    sys.stderr.write('vmalock: known upstream finding, not counted (kunit-configs/known-findings): %s (%d time%s)\n'
                     % (k, n, '' if n == 1 else 's'))
sys.stdout.write('\n'.join(out))
PY
}
