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
# # Figure 5: people using opiates and crack cocaine who were not in treatment
#
# OHID Fingertips indicator 93517, "Proportion of opiates and/or crack cocaine users (i.e. OCU) not in treatment
# (%)", ages 15-64, which the NAO took from the NDTMS website through an API (Appendix One, paragraph 8). The
# recipe is `nao_analysis.figures.fig05`; the build fills in the parameters from the edition file.

# %% tags=["parameters"]
edition = "nao-2023"
overrides = {}
output_dir = ""
settings = ""

# %%
from nao_analysis.figures import notebook as nb

result = nb.run("fig05", edition=edition, overrides=overrides, output_dir=output_dir, settings=settings)
nb.heading(result)

# %%
nb.charts(result)
nb.notes(result)

# %% [markdown]
# ## What the run shows

# %%
nb.markdown(result.text["headline"] + " " + result.text["range"])

# %%
nb.table(result, "Areas ranked")

# %% [markdown]
# ## Method and caveats
#
# The map shows Fingertips' published percentage for each area: the estimated users (the mean of the last three
# prevalence estimates) less those in treatment, as a share of the estimated users. Each percentage is also rebuilt
# from its published denominator and count as a check on the download. Class breaks are fixed, and include the
# report's threshold, so maps of different years compare. Prevalence estimates are not refreshed every year and
# their confidence intervals are wide.

# %%
nb.reconciliation(result)
