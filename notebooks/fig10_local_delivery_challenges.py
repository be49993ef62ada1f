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
# # Figure 10: challenges to successful local delivery of the drugs strategy
#
# Figure 10 is a table of what local partnerships and organisations told the NAO. It is transcribed in
# `data/manual/fig10_challenges.yaml` (challenge, key issues, potential impacts) and drawn as an accessible
# table and as an image laid out like the report's. The recipe is `nao_analysis.figures.fig10`.

# %% tags=["parameters"]
edition = "nao-2023"
overrides = {}
output_dir = ""
settings = ""

# %%
from nao_analysis.figures import notebook as nb

result = nb.run("fig10", edition=edition, overrides=overrides, output_dir=output_dir, settings=settings)
nb.heading(result)

# %%
nb.charts(result)
nb.notes(result)

# %%
nb.table(result, "Key issues and impacts per challenge")

# %% [markdown]
# ## What the run shows

# %%
nb.markdown(result.text["closing"])

# %% [markdown]
# The evidence is qualitative: the report publishes no numbers for this figure, so there is nothing to reconcile.
# The full table, as printed:

# %%
nb.table(result, "Challenges")
