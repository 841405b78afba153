"""Repository checks that stand in for hassfest and the HACS action.

Neither tool runs here (both need Docker), so this package checks what they check — the
manifest, hacs.json, brand images, translations against the code, services, icons — and
audits quality_scale.yaml: a rule claimed `done` needs evidence in the tree.

Modules: ``repo`` (the files checked and how they are read), ``resolver`` and
``collector`` (what the integration's source needs from its metadata, read with
``ast``), ``files``, ``texts`` and ``quality`` (the checks), ``run`` (the command,
``python scripts/check_metadata.py``).
"""
