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
# # Figure 7: total funding allocated to disrupting illegal drugs supply
#
# The table is transcribed from the report (`data/manual/funding_fig07_disrupting_supply.csv`), with the
# notes printed under it (`data/manual/funding_notes.yaml`). The run recomputes every row and column total and
# checks them against the printed ones. The recipe is `nao_analysis.figures.fig07`.

# %% tags=["parameters"]
edition = "nao-2023"
overrides = {}
output_dir = ""
settings = ""

# %%
from nao_analysis.figures import notebook as nb

result = nb.run("fig07", edition=edition, overrides=overrides, output_dir=output_dir, settings=settings)
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
# Figure 7 shows total allocations, most of them existing departmental budgets; only part of it is new strategy funding. Amounts are allocations, not spending: departments may vary them through budgeting decisions.
# The recomputed totals against the printed ones:

# %%
nb.table(result, "Totals checked")

# %%
nb.reconciliation(result)
