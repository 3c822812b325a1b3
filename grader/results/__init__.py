"""Results: frozen records, results.json, grades.csv and nbgrader's gradebook."""
