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
# # Figure 3: change in real-terms spending on substance misuse treatment
#
# Net current expenditure on adult substance misuse treatment (DLUHC revenue account, £ thousand, cash) in two
# years, deflated to one price year, compared area by area on the counties-and-UAs boundaries of the target year
# (NAO report paragraph 1.5, Figure 3, Appendix One paragraph 7). The recipe is `nao_analysis.figures.fig03`; the
# line definitions are data (`data/manual/ro_line_mapping.csv`); the build fills in the parameters from the edition.

# %% tags=["parameters"]
edition = "nao-2023"
overrides = {}
output_dir = ""
settings = ""

# %%
from nao_analysis.figures import notebook as nb

result = nb.run("fig03", edition=edition, overrides=overrides, output_dir=output_dir, settings=settings)
nb.heading(result)

# %%
nb.charts(result)
nb.notes(result)

# %% [markdown]
# ## What the run shows

# %%
nb.markdown(result.text["summary"])

# %%
nb.table(result, "England")

# %%
nb.table(result, "Change by area")

# %% [markdown]
# ## Method and caveats
#
# Each area's spending in the two years is deflated to the price year and compared like for like: areas that
# were reorganised between the years are matched to their successors under the edition's crosswalk policy, and
# the England total sums only areas with data in both years. Blank, suppressed and missing returns are no data,
# never zero. Increases above the plausibility limit and falls to zero are flagged rather than hidden, and are
# left out of the headline range. A run on another basis (budget rather than outturn), other years or another
# deflator says so on the map and in the reconciliation below.

# %%
nb.reconciliation(result)
