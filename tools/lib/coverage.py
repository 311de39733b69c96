#!/usr/bin/env python3
"""Line and branch coverage of the per-VMA lock code from gcov's JSON.

  coverage.py SRCDIR OUTDIR MIN BASELINE FUNC... < gcov JSON, one a line

Reads the JSON that `gcov -b --json-format --stdout` prints for each object
(an inline function of a header is counted in every object that inlines
it: the lines are joined; branches are kept per object), and the same from
the file BASELINE (a boot without the suite). Finds each function named
FUNC in the source of
include/linux/mmap_lock.h or mm/mmap_lock.c under SRCDIR (from its
definition to the next line that is a lone "}"), and writes:
  OUTDIR/functions.txt  a line per function: lines hit/total, branches
                        taken/total, then the lines never run, with text
  OUTDIR/lcov.info      the same, for genhtml
Prints functions.txt and a total line. The lines the baseline ran are
listed apart and left out of the bound. Exits 1 if fewer than MIN percent
of the other lines of the FUNCs ran, if a FUNC has no definition in the
source, or if a FUNC has no lines in the data (the object was not
profiled, or its data is missing).
"""
import json
import os
import re
import sys

FILES = ('include/linux/mmap_lock.h', 'mm/mmap_lock.c')


def rel(path, srcdir):
    path = os.path.normpath(path)
    for f in FILES:
        if path.endswith(f):
            return f
    return None


def read_gcov(stream, srcdir):
    """(lines, branches) of the gcov JSON documents in stream."""
    lines = {}      # (file, line) -> count, joined over objects
    branches = {}   # (object, file, line, i) -> count
    for doc in stream:
        doc = doc.strip()
        if not doc:
            continue
        doc = json.loads(doc)
        obj = doc.get('data_file', '')
        for f in doc.get('files', []):
            name = rel(f['file'], srcdir)
            if not name:
                continue
            for ln in f.get('lines', []):
                k = (name, ln['line_number'])
                lines[k] = lines.get(k, 0) + ln['count']
                for i, b in enumerate(ln.get('branches', [])):
                    bk = (obj, name, ln['line_number'], i)
                    branches[bk] = branches.get(bk, 0) + b['count']
    return lines, branches


def main(argv):
    if len(argv) < 6:
        sys.stderr.write(__doc__)
        return 2
    srcdir, outdir, minimum = argv[1], argv[2], float(argv[3])
    with open(argv[4]) as b:
        base, _ = read_gcov(b, srcdir)
    wanted = argv[5:]
    lines, branches = read_gcov(sys.stdin, srcdir)
    funcs = {}      # (file, name) -> (start, end)
    os.makedirs(outdir, exist_ok=True)
    src = {}
    for f in FILES:
        try:
            src[f] = open(os.path.join(srcdir, f)).read().split('\n')
        except OSError:
            src[f] = []
        # Definitions: the name and "(" at the start of a line (the return
        # type may be on the line before) whose parameter list is followed
        # by "{" on the next line, not by ";"; to the next lone "}".
        for i, text in enumerate(src[f]):
            m = re.match(r'^(?:[a-z_][\w \*]*[ \*])?([a-z_]\w*)\(', text)
            if not m or text.startswith('#'):
                continue
            j = i
            while j < len(src[f]) and ')' not in src[f][j]:
                j += 1
            if j + 1 >= len(src[f]) or src[f][j].rstrip().endswith(';') or src[f][j + 1] != '{':
                continue
            for k in range(j + 1, len(src[f])):
                if src[f][k] == '}':
                    funcs.setdefault((f, m.group(1)), (i + 1, k + 1))
                    break
    out, info, missing, empty = [], {}, [], []
    tot_hit = tot_all = 0
    for want in wanted:
        keys = [k for k in funcs if k[1] == want]
        if not keys:
            missing.append(want)
            continue
        # A name defined twice (lock_vma_under_rcu(): the function, and a
        # stub for !CONFIG_PER_VMA_LOCK in the header) counts where the
        # data has lines for it.
        with_lines = [k for k in keys if any(
            ff == k[0] and funcs[k][0] <= n <= funcs[k][1] for (ff, n) in lines)]
        keys = with_lines or keys[:1]
        for key in keys:
            f, name = key
            start, end = funcs[key]
            ls = sorted(n for (ff, n) in lines if ff == f and start <= n <= end)
            if not ls:
                empty.append(name)
            hit = [n for n in ls if lines[(f, n)] > 0]
            inbase = [n for n in ls if base.get((f, n), 0) > 0]
            bs = [k for k in branches if k[1] == f and start <= k[2] <= end]
            bhit = [k for k in bs if branches[k] > 0]
            tot_hit += len([n for n in hit if n not in inbase])
            tot_all += len(ls) - len(inbase)
            out.append('%-40s %-26s lines %3d/%-3d (baseline %3d) branches %3d/%-3d' %
                       (name, f, len(hit), len(ls), len(inbase), len(bhit), len(bs)))
            for n in ls:
                if lines[(f, n)] == 0:
                    text = src[f][n - 1].strip() if n - 1 < len(src[f]) else ''
                    out.append('    not run: %s:%d: %s' % (f, n, text))
            info.setdefault(f, []).append((name, start, sum(lines[(f, n)] for n in ls[:1])))
    pct = 100.0 * tot_hit / tot_all if tot_all else 0.0
    out.append('total: %d of the %d lines of %d functions that the baseline '
               'does not run were run (%.1f%%; bound %.1f%%)' %
               (tot_hit, tot_all, len(wanted) - len(missing), pct, minimum))
    if missing:
        out.append('no definition in the source: ' + ' '.join(missing))
    if empty:
        out.append('no lines in the coverage data: ' + ' '.join(empty))
    open(os.path.join(outdir, 'functions.txt'), 'w').write('\n'.join(out) + '\n')
    with open(os.path.join(outdir, 'lcov.info'), 'w') as o:
        for f in FILES:
            o.write('TN:vma_lock\nSF:%s\n' % os.path.join(srcdir, f))
            for name, start, count in info.get(f, []):
                o.write('FN:%d,%s\nFNDA:%d,%s\n' % (start, name, count, name))
            for (ff, n) in sorted(lines):
                if ff == f:
                    o.write('DA:%d,%d\n' % (n, lines[(ff, n)]))
            o.write('end_of_record\n')
    print('\n'.join(out))
    return 0 if not missing and not empty and pct >= minimum else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
