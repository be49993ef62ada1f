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
# # Appendix Two: Dame Carol Black's recommendations and the NAO's assessment
#
# Appendix Two sets each of Dame Carol Black's recommendations beside the NAO's assessment of how the strategy
# responds. It is transcribed in `data/manual/appendix2_recommendations.csv` (theme, recommendation, finding,
# assessment, evidence, citation). The run validates it, draws it as a table, and counts the assessments by theme.
# The recipe is `nao_analysis.figures.app2`.

# %% tags=["parameters"]
edition = "nao-2023"
overrides = {}
output_dir = ""
settings = ""

# %%
from nao_analysis.figures import notebook as nb

result = nb.run("app2", edition=edition, overrides=overrides, output_dir=output_dir, settings=settings)
nb.heading(result)

# %%
nb.charts(result)
nb.notes(result)

# %%
nb.table(result, "Assessments by theme")

# %% [markdown]
# ## What the run shows

# %%
nb.markdown(result.text["closing"])

# %% [markdown]
# Counts are of the appendix's rows, some of which group several of Dame Carol's individual recommendations. The
# report says the strategy addressed all but one recommendation; the reconciliation checks that against the
# transcribed rows.

# %%
nb.reconciliation(result)
