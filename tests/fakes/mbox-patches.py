#!/usr/bin/env python3
"""mbox-patches.py MBOX OUT: the patches of a received series, for git am.

Writes the messages of MBOX whose subject is "[PATCH ... k/n]" with k >= 1
(the cover letter, 0/n, is left out), in the order of k, to the mbox OUT;
prints how many. What a list subscriber does before git am.
"""
import mailbox
import re
import sys

found = []
for msg in mailbox.mbox(sys.argv[1]):
    subject = ' '.join(str(msg['Subject']).split())
    m = re.search(r'\[PATCH[^\]]*?(\d+)/(\d+)\]', subject)
    if m and int(m.group(1)) >= 1:
        found.append((int(m.group(1)), msg))
out = mailbox.mbox(sys.argv[2])
for _, msg in sorted(found, key=lambda x: x[0]):
    out.add(msg)
out.flush()
print(len(found))
