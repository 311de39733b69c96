#!/usr/bin/env python3
"""The LAVA job of tools/vmalock lava, and its verdict from LAVA's records.

  lava.py write --job suite|stress --arch A --url BASE --timeout S
                --suite NAME --name JOB-NAME --templates DIR --out DIR
                --kernel FILE [--ramdisk FILE] [--cmdline TEXT]
  lava.py verdict --job suite|stress --log LAVA-LOG --console OUT
                  --label TEXT --seconds N

write: OUT/job.yaml, its artifacts as BASE/<file name> with their
sha256, and OUT/device.yaml rendered from DIR/qemu.jinja2 with the job's
context (what a LAVA server does for a job); for a BASE that is not
file://, also OUT/job-local.yaml, the same job with the files' own
file:// URLs, which lava-run --validate can check before they are served.
verdict: reads lava-run's log (YAML records, one a line), writes the
console lines to OUT, prints one line per recorded case and a summary;
exits 1 unless LAVA finished the job and every expected case was
recorded, and passed.
"""
import argparse
import hashlib
import json
import os
import re
import sys

import jinja2
import yaml

# The kernel's own words for the end of a run: kunit_shutdown=reboot and
# reboot -f both print it, and QEMU (-no-reboot) exits.
END = 'reboot: Restarting system'
# A lab has no console check of ours (tools/lib/badness): a warning or a
# hung task panics the kernel, which ends the run at once, without END,
# so LAVA fails the job.
LAB_CMDLINE = 'panic_on_warn=1 hung_task_panic=1 panic=-1'
# Bounds of the deploy and boot actions, in seconds.
DEPLOY_S = BOOT_S = 300


def image(path, base, arg):
    """A deploy image: PATH as BASE/<its name>, with its checksum."""
    with open(path, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return {'image_arg': arg, 'url': base + '/' + os.path.basename(path),
            'sha256sum': digest}


def job(args, base):
    arm = args.arch == 'arm64'
    console = 'ttyAMA0' if arm else 'ttyS0'
    context = {'arch': 'arm64' if arm else 'amd64', 'no_kvm': True,
               'memory': 2048 if args.job == 'stress' else 1024,
               'extra_options': ['-smp %d' % (4 if args.job == 'stress' else 2),
                                 '-no-reboot']}
    if arm:
        context['cpu'] = 'max'
    images = {}
    if args.job == 'suite':
        cmdline = ('console=%s kunit.filter_glob=%s kunit_shutdown=reboot'
                   % (console, args.suite))
        # A KTAP result line, whole (the console arrives in pieces: the
        # line must have ended); the look-ahead makes an "ok N name #
        # SKIP ..." line's result SKIP. The suite's own line is a case too.
        monitor = {'name': args.suite,
                   'start': '# Subtest: %s' % args.suite,
                   'end': END,
                   'pattern': r'(?=(?:[^\r\n]*# )?(?P<result>SKIP|not ok|ok))(?:not )?ok [0-9]+ '
                              r'(?P<test_case_id>[A-Za-z_][A-Za-z0-9_.-]*)(?: #[^\r\n]*)?[\r\n]',
                   'fixupdict': {'ok': 'pass', 'not ok': 'fail', 'SKIP': 'skip'}}
    else:
        # tools/vmalock boot's command line (boot_cmdline in boot.sh).
        if not args.cmdline:
            sys.exit('lava.py: the stress job needs --cmdline')
        cmdline = args.cmdline
        if not args.ramdisk:
            sys.exit('lava.py: the stress job needs --ramdisk')
        images['ramdisk'] = image(args.ramdisk, base, '-initrd {ramdisk}')
        # The result is the exit code's first digit: 0 is exit 0 alone,
        # any other code starts with 1-9.
        monitor = {'name': 'vma-stress',
                   'start': 'vmalock-init: userspace up',
                   'end': END,
                   'pattern': r'vmalock-init: (?P<test_case_id>vma_stress|proc-maps-race) '
                              r'exit (?P<result>[0-9])[0-9]* ',
                   'fixupdict': dict([('0', 'pass')] + [(str(d), 'fail') for d in range(1, 10)])}
    images['kernel'] = image(args.kernel, base, '-kernel {kernel} -append "%s %s"'
                             % (cmdline, LAB_CMDLINE))
    return context, {
        'device_type': 'qemu',
        'job_name': args.name,
        # The job's bound: the deploy's, the boot's and the test's, and a
        # minute for LAVA's own steps.
        'timeouts': {'job': {'seconds': DEPLOY_S + BOOT_S + args.timeout + 60},
                     'action': {'seconds': args.timeout},
                     'connection': {'seconds': 60}},
        'priority': 'medium',
        'visibility': 'public',
        'context': context,
        'actions': [
            {'deploy': {'to': 'tmpfs', 'timeout': {'seconds': DEPLOY_S}, 'images': images}},
            {'boot': {'method': 'qemu', 'media': 'tmpfs', 'timeout': {'seconds': BOOT_S}}},
            {'test': {'timeout': {'seconds': args.timeout}, 'monitors': [monitor]}},
        ],
    }


def write(args):
    if not args.kernel:
        sys.exit('lava.py: write needs --kernel')
    context, definition = job(args, args.url)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(args.templates),
                             trim_blocks=True, autoescape=False)
    device = env.from_string("{% extends 'qemu.jinja2' %}").render(**context)
    yaml.safe_load(device)
    with open(args.out + '/device.yaml', 'w') as f:
        f.write(device)
    with open(args.out + '/job.yaml', 'w') as f:
        yaml.safe_dump(definition, f, sort_keys=False, width=1000)
    if not args.url.startswith('file://'):
        local = 'file://' + os.path.dirname(os.path.abspath(args.kernel))
        with open(args.out + '/job-local.yaml', 'w') as f:
            yaml.safe_dump(job(args, local)[1], f, sort_keys=False, width=1000)
    return 0


def verdict(args):
    records, console = [], []
    for line in open(args.log, errors='replace'):
        # lava-run logs one JSON record a line (a server's log is YAML,
        # "- {...}").
        line = line.strip()
        if line.startswith('- {'):
            line = line[2:]
        if not line.startswith('{'):
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            try:
                rec = yaml.safe_load(line)
            except yaml.YAMLError:
                continue
        if not isinstance(rec, dict):
            continue
        if rec.get('lvl') == 'target' and isinstance(rec.get('msg'), str):
            console.append(rec['msg'])
        elif rec.get('lvl') == 'results' and isinstance(rec.get('msg'), dict):
            records.append(rec['msg'])
    with open(args.console, 'w') as f:
        f.write('\n'.join(console) + '\n')
    # The kernel's timestamps off, for the KTAP and init lines.
    text = '\n'.join(re.sub(r'^\[\s*[0-9.]+\] ', '', l) for l in console)
    if args.job == 'suite':
        plan = re.search(r'# Subtest: \S+\s*\n\s*(?:# .*\n\s*)*1\.\.([0-9]+)', text)
        want = int(plan.group(1)) + 1 if plan else 0   # the cases, and the suite
    else:
        want = len(re.findall(r'^vmalock-init: (?:vma_stress|proc-maps-race) exit', text, re.M))
    cases = [r for r in records if r.get('definition') != 'lava']
    job_ok = any(r.get('definition') == 'lava' and r.get('case') == 'job' and
                 r.get('result') == 'pass' for r in records)
    for r in cases:
        print('  lava case %s: %s' % (r.get('case'), r.get('result')))
    passed = sum(1 for r in cases if r.get('result') == 'pass')
    skipped = sum(1 for r in cases if r.get('result') == 'skip')
    failed = len(cases) - passed - skipped
    print('lava %s: %d passed, %d failed, %d skipped; job %s; %d s'
          % (args.label, passed, failed, skipped,
             'finished' if job_ok else 'FAILED', args.seconds))
    ok = job_ok and failed == 0 and want > 0 and len(cases) == want
    if not want:
        sys.stderr.write('vmalock: the console LAVA kept has no KTAP plan or result lines\n')
    elif len(cases) != want:
        sys.stderr.write('vmalock: LAVA recorded %d cases, the console names %d\n'
                         % (len(cases), want))
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument('verb', choices=('write', 'verdict'))
    for o in ('job', 'arch', 'url', 'suite', 'name', 'templates', 'out',
              'log', 'console', 'label', 'cmdline', 'kernel', 'ramdisk'):
        p.add_argument('--' + o)
    p.add_argument('--timeout', type=int, default=600)
    p.add_argument('--seconds', type=int, default=0)
    args = p.parse_args()
    return write(args) if args.verb == 'write' else verdict(args)


if __name__ == '__main__':
    sys.exit(main())
