"""The Kubernetes part of the grade-3 baseline (GB/T 22239-2019) as code: plain checks over (type, props),
served as a CrossGuard policy pack (`__main__.py`) and evaluated offline by `fsp plan`."""
