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
# # Area profiles: spending set against harm
#
# For each of the counted counties and unitary authorities, adult substance misuse treatment spending in every
# revenue-account year the edition has (DLUHC RO3 outturn and RA budget, £ thousand, in cash and real terms), its
# change against England's and its rank, its share of public health spending, and drug-poisoning deaths as
# three-year rolling totals. The recipe is `nao_analysis.figures.areas`; the comparisons are Figure 3's
# (`analysis.spending_change.compare_years`), run once per pair of years of the same basis. The site turns the
# record into one page per area.

# %% tags=["parameters"]
edition = "nao-2023"
overrides = {}
output_dir = ""
settings = ""

# %%
from nao_analysis.figures import notebook as nb

result = nb.run("areas", edition=edition, overrides=overrides, output_dir=output_dir, settings=settings)
nb.heading(result)

# %%
nb.notes(result)

# %% [markdown]
# ## Each area in one sentence

# %%
nb.table(result, "Summaries")

# %% [markdown]
# ## Change against England

# %%
nb.table(result, "England")

# %%
nb.table(result, "Headline change by area")

# %% [markdown]
# ## Method and caveats
#
# Years are compared only with years of the same basis: what was spent (outturn) with what was spent, what was
# planned (budget) with what was planned. Reorganised areas are compared as Figure 3 compares them under its
# 'aggregate' policy, so a year before a reorganisation is the sum of the predecessors, and every point says which
# areas it covers. Deaths are all drug-poisoning deaths by year of registration from a third party's extract of the
# ONS local-authority tables; counties are summed from their districts only where the extract has no county row.
# Blank, suppressed and missing values are gaps, never zero, and implausible changes carry Figure 3's flag.
