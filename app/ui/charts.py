"""Charts shared by pages (Altair for curves, Matplotlib for vector fields)."""
import altair as alt
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

LEVEL_COLORS = ["#9e9e9e", "#4c9be8", "#1f5fa8", "#e8590c"]


def path_chart(frame: pd.DataFrame, y: str, order) -> alt.Chart:
    """Curves of `y` along the interpolation path, one per level."""
    order = list(order)
    return alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("mixing weight:Q", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y(f"{y}:Q"),
        color=alt.Color("level:N", sort=order, scale=alt.Scale(domain=order, range=LEVEL_COLORS)),
        tooltip=["level", "mixing weight", alt.Tooltip(f"{y}:Q", format=".3f")]).properties(height=260)


def field_figure(data: np.ndarray, pts: np.ndarray, field: np.ndarray, paths: np.ndarray, box: float):
    """Data points, the arrows r(x) - x, and chain paths (T, M, 2) with their current positions."""
    fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
    ax.scatter(data[:, 0], data[:, 1], s=3, color="#bbbbbb", label="data")
    # Arrows show the direction of r(x) - x at one length; colour shows how far the DAE moves the point.
    length = np.linalg.norm(field, axis=1)
    unit = field / np.maximum(length, 1e-8)[:, None] * (2 * box / np.sqrt(len(pts)) * 0.8)
    arrows = ax.quiver(pts[:, 0], pts[:, 1], unit[:, 0], unit[:, 1], length, cmap="viridis", angles="xy",
                       scale_units="xy", scale=1.0, width=0.004)
    fig.colorbar(arrows, ax=ax, shrink=0.7, label="|r(x) - x|")
    for m in range(paths.shape[1]):
        ax.plot(paths[:, m, 0], paths[:, m, 1], color="#e8590c", alpha=0.35, linewidth=0.8)
    ax.scatter(paths[0, :, 0], paths[0, :, 1], s=8, color="#1f5fa8", label="chain start")
    ax.scatter(paths[-1, :, 0], paths[-1, :, 1], s=14, color="#e8590c", label="chain now")
    ax.set_xlim(-box, box)
    ax.set_ylim(-box, box)
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    plt.close(fig)
    return fig
