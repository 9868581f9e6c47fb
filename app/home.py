"""Home: the tutorial's map and every measured "paper vs. you" claim."""
import pandas as pd
import streamlit as st

from app.ui import catalog, resources
from engine import api

st.title("Deep Learning Playground")
st.markdown(
    "Yoshua Bengio's 2015 deep-learning tutorial (LxMLS, Lisbon), turned into live demos: each page lets you "
    "poke at a real trained model and measures the tutorial's claim next to the paper's number. Everything "
    "runs on this machine, offline.")

st.subheader("The tutorial, section by section")
links = {p.url_path: p for p in catalog.available()}
cols = st.columns(max(1, len(links)))
for col, page in zip(cols, links.values()):
    with col:
        st.page_link(f"../pages/{page.file.name}", label=page.title, icon=page.icon)
        st.caption(f"Slides {page.slides}: {page.idea}")

rows = []
for slides, idea, claim, url in catalog.TUTORIAL_MAP:
    rows.append({"Slides": slides, "Idea": idea, "Claim to measure": claim,
                 "Page": catalog.page(url).title if url else "background",
                 "Open": f"/{url}" if url in links else None})
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
             column_config={"Open": st.column_config.LinkColumn("Open", help="pages that exist today")})

st.subheader("Paper vs. you")
preset = resources.preset()
st.caption(f"Measured by the `{preset}` checkpoints on this machine (recomputed by `python -m engine eval`).")
claim_rows = []
for spec, claim, source in api.claims(preset):
    if claim is None:
        claim_rows.append({"Page": f"/{spec.page}", "Claim": spec.title, "Paper": "", "Ours": "",
                           "Holds": "not measured", "Setting": source})
        continue
    claim_rows.append({"Page": f"/{claim.page}", "Claim": claim.claim, "Paper": claim.paper, "Ours": claim.ours,
                       "Holds": {True: "yes", False: "no", None: "-"}[claim.holds],
                       "Setting": f"{claim.setting} ({source})"})
if claim_rows:
    st.dataframe(pd.DataFrame(claim_rows), hide_index=True, width="stretch",
                 column_config={"Page": st.column_config.LinkColumn("Page")})
else:
    st.info("No model has a stored checkpoint yet: run `python -m engine warmup`.")
