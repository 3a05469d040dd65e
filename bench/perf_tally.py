#!/usr/bin/env python3
"""Reads `perf script -F ip,sym,dso` of a `perf record -g` run on stdin and attributes each sample to
the innermost frame of the project's own modules on its call chain (its leaf may be in NIO, the
Swift runtime, libc or the kernel), with the kernel's share of it; prints the top N (argv[1]).

    perf script -i perf.data -F ip,sym,dso | python3 bench/perf_tally.py 30
"""
import sys, re, collections, subprocess
ours = re.compile(r'^\$s(7Gateway|5Redis|6Tokens|5Queue|10ServiceKit|7Booking|8Database|8Payments)')
samples = []
kernel = []
cur = []
for line in sys.stdin:
    line = line.rstrip('\n')
    if not line.strip():
        if cur: samples.append(cur); cur = []
        continue
    parts = line.strip().split(None, 1)
    if len(parts) < 2: continue
    sym = parts[1]
    dso = ''
    if sym.endswith(')') and ' (' in sym:
        sym, dso = sym.rsplit(' (', 1)
    if not cur: kernel.append('kallsyms' in dso or 'kernel' in dso)
    cur.append(sym)
if cur: samples.append(cur)
syms = set(f for s in samples for f in s)
names = {}
lst = list(syms)
out = subprocess.run(['swift', 'demangle', '--simplified', '--compact'], input='\n'.join(lst), capture_output=True, text=True).stdout.split('\n')
for a, b in zip(lst, out): names[a] = b
tally = collections.Counter(); leaf = collections.Counter()
for s, k in zip(samples, kernel):
    dem = [names.get(f, f) for f in s]
    owner = next((names.get(f, f) for f in s if ours.search(f)), '<none of ours>')
    owner = re.sub(r' \(.*', '', owner)[:140]
    tally[owner] += 1
    if k: leaf[owner] += 1
total = len(samples)
print(f"{total} samples")
for k, v in tally.most_common(int(sys.argv[1]) if len(sys.argv) > 1 else 40):
    print(f"{100*v/total:6.2f}% (kernel {100*leaf[k]/total:5.2f}%)  {k}")
