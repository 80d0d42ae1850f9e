"""The portal's file exports: one xlsx writer (``xlsx.write_xlsx``) and one CSV writer (``csv.write_csv``)."""
