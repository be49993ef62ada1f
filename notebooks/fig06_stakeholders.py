# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: nao-analysis (Python 3.11)
#     language: python
#     name: nao-analysis
# ---

# %% [markdown]
# # Figure 6: national and local stakeholders involved in implementing the drugs strategy
#
# The report's drawing does not survive in its text, so the bodies and relationships are rebuilt from what the
# text says and kept as data in `data/manual/fig06_stakeholders.yaml`, every body and arrow with its paragraph.
# The layout is layered: national governance, central government, local partnerships, local delivery. The recipe
# is `nao_analysis.figures.fig06`.

# %% tags=["parameters"]
edition = "nao-2023"
overrides = {}
output_dir = ""
settings = ""

# %%
from nao_analysis.figures import notebook as nb

result = nb.run("fig06", edition=edition, overrides=overrides, output_dir=output_dir, settings=settings)
nb.heading(result)

# %%
nb.charts(result)
nb.notes(result)

# %%
nb.table(result, "Relationships")

# %% [markdown]
# ## What the run shows

# %%
nb.markdown(result.text["closing"])

# %% [markdown]
# Arrows the report describes without calling them direction or advice are our reading of the text; they are
# marked in the table and drawn paler, and the `show_inferred` parameter leaves them out.

# %%
nb.reconciliation(result)
