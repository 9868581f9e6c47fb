"""Home: the tutorial's map and every measured "paper vs. you" claim."""
import streamlit as st

from app.ui import catalog, resources
from app.ui.tables import markdown_table
from engine import api

st.title("Deep Learning Playground")
st.markdown(
    "Yoshua Bengio's 2015 deep-learning tutorial (LxMLS, Lisbon), turned into live demos: each page lets you "
    "poke at a real trained model and measures the tutorial's claim next to the paper's number. Everything "
    "runs on this machine, offline.")
st.page_link("../pages/classroom.py", label="Teaching a class? Open a room: students follow your view, send you what "
             "they find and answer polls on the claims", icon=":material/school:")

st.subheader("The tutorial, section by section")
links = {p.url_path: p for p in catalog.available()}
cols = st.columns(max(1, len(links)))
for col, page in zip(cols, links.values()):
    with col:
        st.page_link(f"../pages/{page.file.name}", label=page.title, icon=page.icon)
        st.caption(f"Slides {page.slides}: {page.idea}")

rows = []
for slides, idea, claim, url in catalog.TUTORIAL_MAP:
    page = catalog.page(url).title if url else "background"
    rows.append({"Slides": slides, "Idea": idea, "Claim to measure": claim,
                 "Page": f"[{page}](/{url})" if url in links else (f"{page} (coming)" if url else page)})
st.markdown(markdown_table(rows))

st.subheader("Paper vs. you")
preset = resources.preset()
st.caption(f"Measured by the `{preset}` checkpoints on this machine (`python -m engine eval NAME` recomputes them).")
claim_rows = []
for report in api.all_claims(preset):
    link = f"[/{report.page}](/{report.page})"
    for name, reason in report.missing.items():
        claim_rows.append({"Claim": f"{api.spec(name).title} ({link})", "Paper": "", "Ours": "",
                           "Holds": "not measured", "Setting": reason})
    for claim in report.claims:
        claim_rows.append({"Claim": f"{claim.claim} ({link})", "Paper": claim.paper, "Ours": claim.ours,
                           "Holds": {True: "**yes**", False: "**no**", None: "-"}[claim.holds],
                           "Setting": claim.setting})
if claim_rows:
    st.markdown(markdown_table(claim_rows))
else:
    st.info("No model has a stored checkpoint yet: run `python -m engine warmup`.")
