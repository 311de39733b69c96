#!/usr/bin/env python3
"""Compare two vmlinux images function by function (tools/vmalock nfc).

Each function's disassembly (objdump -d) is normalised: instruction
addresses, absolute branch/call targets and RIP-relative displacements are
dropped; symbol names and offsets inside functions stay. A function that
differs is "layout only" when both sides hold the same multiset of
instructions once branch targets and the sense of conditional jumps are
ignored (blocks in another order), and "instructions" otherwise.
"""
import collections
import re
import subprocess
import sys

HEAD = re.compile(r'^[0-9a-f]+ <([^>]+)>:$')
INSN = re.compile(r'^ *[0-9a-f]+:\t(.*)$')
ABS = re.compile(r'[0-9a-f]{16} <')
RIP = re.compile(r'-?0x[0-9a-f]+\(%rip\)')
KADDR = re.compile(r'0xffffffff[89a-f][0-9a-f]{7}|-0x[4-7][0-9a-f]{7}(?=\()')
DATA = re.compile(r'# <([^>+]+)\+0x[0-9a-f]+>')
OTHER = re.compile(r'<([^>+]+)\+0x[0-9a-f]+>')
SPACE = re.compile(r'\s+')
TARGET = re.compile(r'<[^>]*\+0x[0-9a-f]+>')
JCC = re.compile(r'^j[a-z]+ ')


def functions(vmlinux):
    out = subprocess.run(['objdump', '-d', '--no-show-raw-insn', '-w', vmlinux],
                         check=True, capture_output=True, text=True).stdout
    funcs, seen, name, body = {}, collections.Counter(), None, []
    for line in out.splitlines():
        m = HEAD.match(line)
        if m:
            if name is not None:
                funcs[name] = body
            seen[m.group(1)] += 1
            name = m.group(1) + ('#%d' % seen[m.group(1)] if seen[m.group(1)] > 1 else '')
            body = []
            continue
        m = INSN.match(line)
        if m and name is not None:
            insn = KADDR.sub('K', RIP.sub('X(%rip)', ABS.sub('<', m.group(1))))
            insn = DATA.sub(r'# <\1>', insn)
            own = name.split('#')[0]
            insn = OTHER.sub(lambda t: t.group(0) if t.group(1) == own else '<%s>' % t.group(1), insn)
            body.append(SPACE.sub(' ', insn).strip())
    if name is not None:
        funcs[name] = body
    return funcs


def shape(body):
    return collections.Counter(JCC.sub('jX ', TARGET.sub('<L>', i)) for i in body)


def main():
    before, after = functions(sys.argv[1]), functions(sys.argv[2])
    common = sorted(set(before) & set(after))
    only = sorted(set(before) ^ set(after))
    layout, code = [], []
    for f in common:
        if before[f] != after[f]:
            (layout if shape(before[f]) == shape(after[f]) else code).append(f)

    def calls(sym):
        return [f for f in common if any(i.startswith('call ') and '<%s>' % sym in i
                                         for i in after[f])]
    for f in layout:
        print('  differs, layout only: %s' % f)
    for f in code:
        b, a = shape(before[f]), shape(after[f])
        print('  differs, instructions: %s (%d insns -> %d; %d only before, %d only after)'
              % (f, len(before[f]), len(after[f]), sum((b - a).values()), sum((a - b).values())))
    for f in only:
        print('  only %s: %s' % ('before' if f in before else 'after', f))
    differ = set(layout) | set(code)
    wakers, detachers = calls('rcuwait_wake_up'), calls('vma_mark_detached')
    print('%d functions compared, %d identical, %d differ (%d layout only, %d instructions), '
          '%d on one side only; rcuwait_wake_up() callers %d (%d identical), '
          'vma_mark_detached() callers %d (%d identical)'
          % (len(common), len(common) - len(differ), len(differ), len(layout), len(code),
             len(only), len(wakers), len([f for f in wakers if f not in differ]),
             len(detachers), len([f for f in detachers if f not in differ])))


if __name__ == '__main__':
    main()
