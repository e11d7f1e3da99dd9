"""XLSX exports and PNG charts built from the scoring core's results.

- `rows`: the input rows (SummaryRow, UnitItemRow, UnitTotals, AuditRow, ProgressCounts);
  `from_scoring` fills them from SheetResult / RankRow without re-adding anything.
- `xlsx`: summary_workbook, unit_workbook, appraisal_log_workbook → bytes.
- `charts`: ranking_chart (+ ranking_chart_pages), unit_profile_chart, progress_chart → PNG bytes.
- `pdf`: `new_document` (A4, the charts' DejaVu fonts embedded) and `to_bytes`, for print-ready PDFs.

Pure builders: no database, no Telegram, no files read at run time except matplotlib's own font.
"""
