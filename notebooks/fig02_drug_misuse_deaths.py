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
# # Figure 2: deaths attributed to drug misuse
#
# Deaths registered in each year where the underlying cause was drug poisoning and the ONS "drug misuse"
# definition applies (ONS reference tables, Table 1; NAO report paragraph 1.4). The recipe is
# `nao_analysis.figures.fig02`; the build fills in the parameters from the edition file.

# %% tags=["parameters"]
edition = "nao-2023"
overrides = {}
output_dir = ""
settings = ""

# %%
from nao_analysis.figures import notebook as nb

result = nb.run("fig02", edition=edition, overrides=overrides, output_dir=output_dir, settings=settings)
nb.heading(result)

# %%
nb.charts(result)
nb.notes(result)

# %%
nb.table(result, "Deaths by registration year")

# %% [markdown]
# ## What the run shows

# %%
nb.markdown(result.text["closing"])

# %% [markdown]
# Deaths are counted by year of registration, so a year's count includes deaths that occurred earlier and were
# delayed by inquests. Each ONS edition can revise earlier years; where the edition names an older table, the
# revision check lists the years whose counts changed.

# %%
nb.reconciliation(result)
