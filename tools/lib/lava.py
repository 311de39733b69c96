#!/usr/bin/env python3
"""The LAVA job of tools/vmalock lava, and its verdict from LAVA's records.

  lava.py write --job suite|stress --arch A --url BASE --timeout S
                --suite NAME --name JOB-NAME --templates DIR --out DIR
  lava.py verdict --job suite|stress --log LAVA-LOG --console OUT
                  --label TEXT --seconds N

write: OUT/job.yaml, and OUT/device.yaml rendered from DIR/qemu.jinja2
with the job's context (what a LAVA server does for a job).
verdict: reads lava-run's log (YAML records, one a line), writes the
console lines to OUT, prints one line per recorded case and a summary;
exits 1 unless LAVA finished the job and every expected case was
recorded, and passed.
"""
import argparse
import json
import re
import sys

import jinja2
import yaml

# The kernel's own words for the end of a run: kunit_shutdown=reboot and
# reboot -f both print it, and QEMU (-no-reboot) exits.
END = 'reboot: Restarting system'


def job(args):
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
        # A KTAP case line, whole (the console arrives in pieces: the
        # name must end at the line's end); "ok N name # SKIP" lines do
        # not match, the suite's own line does.
        monitor = {'name': args.suite,
                   'start': '# Subtest: %s' % args.suite,
                   'end': END,
                   'pattern': r'(?P<result>not ok|ok) [0-9]+ (?P<test_case_id>[a-z][a-z0-9_]*)[\r\n]',
                   'fixupdict': {'ok': 'pass', 'not ok': 'fail'}}
    else:
        # tools/vmalock boot's command line (boot_cmdline in boot.sh).
        if not args.cmdline:
            sys.exit('lava.py: the stress job needs --cmdline')
        cmdline = args.cmdline
        images['ramdisk'] = {'image_arg': '-initrd {ramdisk}',
                             'url': args.url + '/ramdisk.cpio'}
        monitor = {'name': 'vma-stress',
                   'start': 'vmalock-init: userspace up',
                   'end': END,
                   'pattern': r'vmalock-init: (?P<test_case_id>vma_stress|proc-maps-race) exit (?P<result>[0-9]+) ',
                   'fixupdict': {'0': 'pass', '1': 'fail', '2': 'fail', '3': 'fail'}}
    images['kernel'] = {'image_arg': '-kernel {kernel} -append "%s"' % cmdline,
                        'url': args.url + '/kernel'}
    return context, {
        'device_type': 'qemu',
        'job_name': args.name,
        'timeouts': {'job': {'seconds': args.timeout + 300},
                     'action': {'seconds': args.timeout},
                     'connection': {'seconds': 60}},
        'priority': 'medium',
        'visibility': 'public',
        'context': context,
        'actions': [
            {'deploy': {'to': 'tmpfs', 'timeout': {'seconds': 300}, 'images': images}},
            {'boot': {'method': 'qemu', 'media': 'tmpfs', 'timeout': {'seconds': 300}}},
            {'test': {'timeout': {'seconds': args.timeout}, 'monitors': [monitor]}},
        ],
    }


def write(args):
    context, definition = job(args)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(args.templates),
                             trim_blocks=True, autoescape=False)
    device = env.from_string("{% extends 'qemu.jinja2' %}").render(**context)
    yaml.safe_load(device)
    with open(args.out + '/device.yaml', 'w') as f:
        f.write(device)
    with open(args.out + '/job.yaml', 'w') as f:
        yaml.safe_dump(definition, f, sort_keys=False, width=200)
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
        skips = len(re.findall(r'^\s+ok [0-9]+ \S+ # SKIP', text, re.M))
    else:
        want = len(re.findall(r'^vmalock-init: (?:vma_stress|proc-maps-race) exit', text, re.M))
        skips = 0
    cases = [r for r in records if r.get('definition') != 'lava']
    job_ok = any(r.get('definition') == 'lava' and r.get('case') == 'job' and
                 r.get('result') == 'pass' for r in records)
    for r in cases:
        print('  lava case %s: %s' % (r.get('case'), r.get('result')))
    passed = sum(1 for r in cases if r.get('result') == 'pass')
    failed = len(cases) - passed
    print('lava %s: %d passed, %d failed, %d skipped (KTAP, not recorded); '
          'job %s; %d s' % (args.label, passed, failed, skips,
                            'finished' if job_ok else 'FAILED', args.seconds))
    ok = job_ok and failed == 0 and want > 0 and len(cases) + skips == want
    if not want:
        sys.stderr.write('vmalock: the console LAVA kept has no KTAP plan or result lines\n')
    elif len(cases) + skips != want:
        sys.stderr.write('vmalock: LAVA recorded %d cases (and %d skips), the console names %d\n'
                         % (len(cases), skips, want))
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument('verb', choices=('write', 'verdict'))
    for o in ('job', 'arch', 'url', 'suite', 'name', 'templates', 'out',
              'log', 'console', 'label', 'cmdline'):
        p.add_argument('--' + o)
    p.add_argument('--timeout', type=int, default=600)
    p.add_argument('--seconds', type=int, default=0)
    args = p.parse_args()
    return write(args) if args.verb == 'write' else verdict(args)


if __name__ == '__main__':
    sys.exit(main())
