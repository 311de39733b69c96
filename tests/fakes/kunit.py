#!/usr/bin/env python3
"""A stand-in for tools/testing/kunit/kunit.py in the tests' fake kernel trees.

config/build: write <build_dir>/.config (the CONFIG_ lines of every
--kunitconfig), vmlinux and arch/x86/boot/bzImage; sleep FAKE_BUILD_SLEEP
seconds first; fail if FAKE_BUILD_FAIL is set. exec: start
"qemu-system-x86_64 ... -accel kvm -accel hvf -accel tcg" from PATH, as the
real one does, with a time limit of --timeout, keep its output in
<build_dir>/test.log, and write --json from the KTAP lines "ok N name" /
"not ok N name" of the vma_lock suite.
"""
import json, os, subprocess, sys, time

args = sys.argv[1:]
cmd = args[0]
opt = {}
pos = []
for a in args[1:]:
    if a.startswith('--'):
        k, _, v = a[2:].partition('=')
        opt.setdefault(k, []).append(v)
    else:
        pos.append(a)
bd = opt['build_dir'][0]
if cmd in ('config', 'build'):
    time.sleep(float(os.environ.get('FAKE_BUILD_SLEEP', '0')))
    if os.environ.get('FAKE_BUILD_FAIL'):
        print('error: fake build failure')
        sys.exit(1)
    os.makedirs(os.path.join(bd, 'arch/x86/boot'), exist_ok=True)
    lines = []
    for f in opt.get('kunitconfig', []):
        if os.path.isdir(f):
            f = os.path.join(f, '.kunitconfig')
        lines += [l for l in open(f).read().splitlines() if l.startswith('CONFIG_')]
    open(os.path.join(bd, '.config'), 'w').write('\n'.join(lines) + '\n')
    head = subprocess.run(['git', 'rev-parse', 'HEAD'], capture_output=True, text=True).stdout
    for f in ('vmlinux', 'arch/x86/boot/bzImage'):
        open(os.path.join(bd, f), 'w').write('fake kernel of ' + head)
    print('built')
    sys.exit(0)
if cmd == 'exec':
    append = ' '.join(opt.get('kernel_args', []) + ['kunit.filter_glob=' + (pos[0] if pos else ''),
                                                     'kunit.enable=1', 'console=ttyS0'])
    qemu = ['qemu-system-x86_64', '-nodefaults', '-kernel', os.path.join(bd, 'arch/x86/boot/bzImage'),
            '-append', append, '-accel', 'kvm', '-accel', 'hvf', '-accel', 'tcg']
    for q in opt.get('qemu_args', []):
        qemu += q.split()
    timeout = int(opt.get('timeout', ['300'])[0])
    try:
        out = subprocess.run(qemu, capture_output=True, text=True, timeout=timeout).stdout
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b'').decode() if isinstance(e.stdout, bytes) else (e.stdout or '')
        print('timed out after %d s' % timeout)
    open(os.path.join(bd, 'test.log'), 'w').write(out)
    cases = []
    for l in out.splitlines():
        l = l.strip()
        for st, pre in (('PASS', 'ok '), ('FAIL', 'not ok ')):
            if l.startswith(pre) and 'vma_test' in l:
                cases.append({'name': l.split()[-1], 'status': st})
    root = {'name': 'KUnit Test Group', 'test_cases': [],
            'sub_groups': [{'name': 'vma_lock', 'test_cases': cases, 'sub_groups': []}] if cases else []}
    if 'json' in opt:
        open(opt['json'][0], 'w').write(json.dumps(root))
    print(out)
    sys.exit(0 if cases and all(c['status'] == 'PASS' for c in cases) else 1)
sys.exit(2)
