#!/usr/bin/env python3
"""Read kunit.py's JSON results (tools/vmalock kunit and mutants).

  kunit_json.py counts FILE        "PASSED FAILED SKIPPED" over every test
                                   case (leaf); "0 0 0" if FILE is missing
                                   or not JSON (the caller treats that as a
                                   failed run)
  kunit_json.py failed FILE SUITE  names of the cases of SUITE that failed
                                   (neither passed nor skipped), one a line (a case with parameters
                                   counts as one: failed if any run did)
"""
import json
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def leaves(group):
    for case in group.get('test_cases', []):
        yield case
    for sub in group.get('sub_groups', []):
        yield from leaves(sub)


def counts(root):
    n = {'PASS': 0, 'FAIL': 0, 'SKIP': 0}
    if root is not None:
        for case in leaves(root):
            status = case.get('status', 'FAIL')
            n[status if status in n else 'FAIL'] += 1
    return '%d %d %d' % (n['PASS'], n['FAIL'], n['SKIP'])


OK = ('PASS', 'SKIP')


def suites(group, name):
    for sub in group.get('sub_groups', []):
        if sub.get('name') == name:
            yield sub
        else:
            yield from suites(sub, name)


def failed(root, suite):
    out = []
    if root is None:
        return out
    for s in suites(root, suite):
        for case in s.get('test_cases', []):
            if case.get('status') not in OK:
                out.append(case.get('name', '?'))
        for sub in s.get('sub_groups', []):
            if any(c.get('status') not in OK for c in leaves(sub)):
                out.append(sub.get('name', '?'))
    return out


def reported(root, suite):
    if root is None:
        return 0
    return sum(len(s.get('test_cases', [])) + len(s.get('sub_groups', []))
               for s in suites(root, suite))


def main(argv):
    if len(argv) == 3 and argv[1] == 'counts':
        print(counts(load(argv[2])))
    elif len(argv) == 4 and argv[1] == 'reported':
        print(reported(load(argv[2]), argv[3]))
    elif len(argv) == 4 and argv[1] == 'failed':
        for name in failed(load(argv[2]), argv[3]):
            print(name)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
