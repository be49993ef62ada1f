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
# # Figure 1: prevalence of drug use in England and Wales
#
# Drug use reported in the Crime Survey for England and Wales (CSEW). Values come from the CSEW appendix tables
# the edition names (several editions combined, the newest winning where they overlap, because each edition
# reweights its back series). Values only quoted in the reference documents are drawn as hollow diamonds and
# labelled as quoted. The recipe is `nao_analysis.figures.fig01`; the build fills in the parameters from the
# edition file.

# %% tags=["parameters"]
edition = "nao-2023"
overrides = {}
output_dir = ""
settings = ""

# %%
from nao_analysis.figures import notebook as nb

result = nb.run("fig01", edition=edition, overrides=overrides, output_dir=output_dir, settings=settings)
nb.heading(result)

# %%
nb.charts(result)
nb.notes(result)

# %%
nb.table(result, "Prevalence by survey year (tables)")

# %% [markdown]
# ## What the run shows
#
# The sentence below is written from this run's series: the range of the table values, and which points are
# quoted rather than read from a table.

# %%
nb.markdown(result.text["closing"])

# %% [markdown]
# ## Caveats
#
# - A series that ends early on the chart ends because its source ends: the newest edition used does not carry
#   that drug for the age group. The chart and the notes name the edition.
# - The interview gap during the pandemic has no data; the part-year survey after it covers fewer months with a
#   lower response rate, so ONS advises caution comparing it with full years.
# - A quoted value is checked against a table wherever a table for that period is in the edition:

# %%
nb.table(result, "Quoted values against the tables")

# %% [markdown]
# ## Reconciliation
#
# The report's published prevalence numbers are rebuilt from a CSEW table when the edition includes the table for
# their period; otherwise the row says the source is unavailable and where the value is quoted.

# %%
nb.reconciliation(result)
