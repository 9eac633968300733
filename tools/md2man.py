#!/usr/bin/env python3
"""Turn our man page sources (a small, regular Markdown) into troff -man, so the build needs no pandoc.

Accepted: '# SECTION' headings, '## Subsection', paragraphs, '- ' bullets, '`term`' lines followed by
an indented description (a tagged paragraph), fenced code blocks, **bold**, `code` and *italic*.
The first line must be '% NAME(SECTION) | description'."""
import re
import sys


def inline(text):
    text = text.replace('\\', '\\e')
    text = re.sub(r'\*\*(.+?)\*\*', r'\\fB\1\\fR', text)
    text = re.sub(r'`(.+?)`', r'\\fB\1\\fR', text)
    text = re.sub(r'(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])', r'\\fI\1\\fR', text)
    return text


def protect(line):
    # A line starting with '.' or "'" would be a troff request.
    return '\\&' + line if line[:1] in ('.', "'") else line


def convert(src, name):
    lines = src.splitlines()
    m = re.match(r'^% (\S+)\((\d)\) \| (.*)$', lines[0]) if lines else None
    if not m:
        sys.exit(f'{name}:1: first line must be "% NAME(SECTION) | description"')
    out = [f'.TH "{m.group(1).upper()}" "{m.group(2)}" "" "rackstack" "{m.group(3)}"']
    in_code = False
    for raw in lines[1:]:
        line = raw.rstrip()
        if line.startswith('```'):
            out += ['.RS 4', '.nf'] if not in_code else ['.fi', '.RE']
            in_code = not in_code
            continue
        if in_code:
            out.append(protect(line.replace('\\', '\\e')))
            continue
        if not line:
            out.append('.PP')
        elif line.startswith('## '):
            out.append(f'.SS "{line[3:]}"')
        elif line.startswith('# '):
            out.append(f'.SH "{line[2:].upper()}"')
        elif line.startswith('- '):
            out += ['.IP \\(bu 2', protect(inline(line[2:]))]
        elif re.match(r'^`[^`]+`.*$', line) and not raw.startswith(' '):
            out += ['.TP', protect(inline(line))]
        else:
            out.append(protect(inline(line.strip())))
    # Collapse runs of paragraph breaks; troff does not need them.
    clean = []
    for l in out:
        if l == '.PP' and clean and clean[-1] in ('.PP', '.TP') or (l == '.PP' and clean and clean[-1].startswith('.S')):
            continue
        clean.append(l)
    return '\n'.join(clean) + '\n'


if __name__ == '__main__':
    path = sys.argv[1]
    with open(path, encoding='utf-8') as f:
        sys.stdout.write(convert(f.read(), path))
