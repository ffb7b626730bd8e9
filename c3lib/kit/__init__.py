"""The workbook kit: what a notebook imports to load a case, show tables and figures, run
an explorer, check an exercise and publish the record."""
