# Unit tests: one cmocka program per common/ unit, linked against the
# ASan/UBSan build of common/. Add a unit test with the five lines below.
UNIT_CFLAGS = $(COMMON_CFLAGS) $(CMOCKA_CFLAGS) $(SAN_CFLAGS) -g -O1 -I$(top_srcdir)/tests/unit
UNIT_LDADD = libctxcommon_san.la $(CMOCKA_LIBS) $(COMMON_LIBS)
UNIT_LINKFLAGS = $(SAN_CFLAGS)
if HAVE_CMOCKA

check_PROGRAMS += tests/unit/test_timefmt
TESTS += tests/unit/test_timefmt
tests_unit_test_timefmt_SOURCES = tests/unit/test_timefmt.c
tests_unit_test_timefmt_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_timefmt_LDADD = $(UNIT_LDADD)
tests_unit_test_timefmt_LDFLAGS = $(UNIT_LINKFLAGS)

endif
