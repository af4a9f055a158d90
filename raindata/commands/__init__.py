"""Click commands of the ``raindata`` CLI (thin wrappers over library functions)."""
