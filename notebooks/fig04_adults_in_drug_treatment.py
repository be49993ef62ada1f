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
# # Figure 4: adults in England in treatment for drug misuse
#
# Adults in community drug treatment recorded by the National Drug Treatment Monitoring System (NDTMS). Drug
# treatment is the sum of the NDTMS drug groups named in the parameters (by default opiates, non-opiates only and
# non-opiates with alcohol); alcohol-only clients and secure settings are excluded. The recipe is
# `nao_analysis.figures.fig04`.

# %% tags=["parameters"]
edition = "nao-2023"
overrides = {}
output_dir = ""
settings = ""

# %%
from nao_analysis.figures import notebook as nb

result = nb.run("fig04", edition=edition, overrides=overrides, output_dir=output_dir, settings=settings)
nb.heading(result)

# %%
nb.charts(result)
nb.notes(result)

# %%
nb.table(result, "Adults in treatment by year")

# %% [markdown]
# ## What the run shows

# %%
nb.markdown(result.text["closing"])

# %% [markdown]
# Each person is counted once per year in their main drug group. Later NDTMS exports can revise earlier years, so
# a rebuilt number can move when the export changes. A published number for a year outside this run's years is
# reported as not applicable; a change over other years than the published ones is reported as not comparable.

# %%
nb.reconciliation(result)
