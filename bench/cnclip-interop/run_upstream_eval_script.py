"""Runs one of Chinese-CLIP's cn_clip/eval scripts (upstream commit 31863c7, read-only at /work/cnclip-src) unchanged
on files Tuwen wrote, for the check in evaluation-output-check.md. Two things differ from running it directly:
tqdm is not installed here (an identity stub stands in) and there is no GPU (".cuda()" is dropped from the source
before it runs). Usage: /usr/bin/python3 run_upstream_eval_script.py SCRIPT.py [script arguments]"""
import sys, types
m = types.ModuleType("tqdm"); m.tqdm = lambda x, *a, **k: x; sys.modules["tqdm"] = m
script = sys.argv[1]; sys.argv = sys.argv[1:]
src = open(script).read().replace(".cuda()", "")
exec(compile(src, script, "exec"), {"__name__": "__main__"})
