"""Click commands of ``benchmark`` that live in their own modules (figure, report, plot)."""
