"""What people see: students' feedback pages and pictures, the instructor's class report."""
