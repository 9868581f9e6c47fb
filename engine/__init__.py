"""PyTorch engine of the Deep Learning Playground: models, data, training, checkpoints, jobs, analysis.

Pages and the CLI talk to the engine through `engine.api`; nothing here imports Streamlit.
"""
