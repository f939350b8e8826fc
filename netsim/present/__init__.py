"""What people read: plain-text tables, plots (PNG, SVG) and the HTML report."""
