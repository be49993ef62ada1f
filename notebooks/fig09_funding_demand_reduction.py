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
# # Figure 9: departmental allocations of strategy funding to demand reduction
#
# The table is transcribed from the report (`data/manual/funding_fig09_demand_reduction.csv`), with the notes
# printed under it (`data/manual/funding_notes.yaml`). The run recomputes every total, reconciles the strategy
# funding total across the three workstreams, and draws an additional chart that is not in the report. The recipe
# is `nao_analysis.figures.fig09`.

# %% tags=["parameters"]
edition = "nao-2023"
overrides = {}
output_dir = ""
settings = ""

# %%
from nao_analysis.figures import notebook as nb

result = nb.run("fig09", edition=edition, overrides=overrides, output_dir=output_dir, settings=settings)
nb.heading(result)

# %%
nb.charts(result)
nb.notes(result)

# %%
nb.table(result, "Allocations")

# %% [markdown]
# ## What the run shows

# %%
nb.markdown(result.text["closing"])

# %% [markdown]
# ## Strategy funding across the workstreams
#
# Figure 7 shows total allocations to disrupting supply, most of them existing Home Office budgets. The strategy
# funding within it is the Home Office's additional funding, quoted in the report with no breakdown by activity,
# plus the Ministry of Justice's own rows. The strategy total adds that to the treatment and recovery and the
# demand reduction tables, which are strategy funding in full.

# %%
nb.markdown(result.text["supply_explained"])

# %%
nb.table(result, "Strategy funding")

# %% [markdown]
# The additional chart (the second image above) is not in the report. It shows strategy funding only, so existing
# budgets are never stacked with strategy money; the split by lead department is of each workstream's strategy
# funding.

# %%
nb.markdown(result.text["extra_caption"])

# %%
nb.table(result, "Strategy funding by lead department")

# %%
nb.reconciliation(result)
