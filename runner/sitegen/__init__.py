"""The static leaderboard site: results → Markdown pages (jinja2) → `mkdocs build --strict`.

`build.build_site` is the entry point (`medlb site build`); the modules beside it each do one
step: read the inputs, rank, draw SVG plots, write data files, render pages, run mkdocs.
Nothing here imports numpy or torch: the Pages workflow installs only `medlb[site]`.
"""
