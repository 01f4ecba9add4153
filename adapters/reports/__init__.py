"""Report renderers (issue 5, item 3): the management report as one self-contained HTML page
with charts, and as CSV and XLSX for spreadsheets. They read ``services.reports.model.Report``
and nothing else."""
