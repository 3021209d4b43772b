/* Unit tests for src/date.c: the date forms real feeds use. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "date.h"

static const struct {
	const char *in;
	long long want;
} good[] = {
    {"Tue, 16 Dec 2008 07:45:46 +0000", 1229413546LL},
    {"Tue, 16 Dec 2008 07:45:46 GMT", 1229413546LL},
    {"Tue, 16 Dec 2008 07:45:46 UT", 1229413546LL},
    {"Tue, 16 Dec 2008 07:45:46 UTC", 1229413546LL},
    {"Tue, 16 Dec 2008 07:45:46 Z", 1229413546LL},
    {"16 Dec 2008 07:45:46 +0000", 1229413546LL},
    {"Tue, 16 Dec 08 07:45:46 GMT", 1229413546LL},
    {"Thu, 01 Jan 70 00:00:00 GMT", 0LL},
    {"Tue, 16 Dec 2008 07:45 GMT", 1229413500LL},
    {"Tue,  16  Dec  2008   07:45:46   GMT", 1229413546LL},
    {"Tue, 16 Dec 2008 07:45:46 GMT (UTC)", 1229413546LL},
    {"Tue, 16 Dec 2008 07:45:46 +0000 (UTC)", 1229413546LL},
    {"Tue, 16 Dec 2008 07:45:46 -0500", 1229431546LL},
    {"Tue, 16 Dec 2008 07:45:46 +0530", 1229393746LL},
    {"Tue, 16 Dec 2008 07:45:46 +05:30", 1229393746LL},
    {"Tue, 16 Dec 2008 07:45:46 EST", 1229431546LL},
    {"Tue, 16 Dec 2008 07:45:46 EDT", 1229427946LL},
    {"Tue, 16 Dec 2008 07:45:46 CST", 1229435146LL},
    {"Tue, 16 Dec 2008 07:45:46 CDT", 1229431546LL},
    {"Tue, 16 Dec 2008 07:45:46 MST", 1229438746LL},
    {"Tue, 16 Dec 2008 07:45:46 MDT", 1229435146LL},
    {"Tue, 16 Dec 2008 07:45:46 PST", 1229442346LL},
    {"Tue, 16 Dec 2008 07:45:46 pdt", 1229438746LL},
    {"Tue, 16 Dec 2008 07:45:46 A", 1229417146LL},
    {"Tue, 16 Dec 2008 07:45:46 M", 1229456746LL},
    {"Tue, 16 Dec 2008 07:45:46 N", 1229409946LL},
    {"Tue, 16 Dec 2008 07:45:46 Y", 1229370346LL},
    {"Tue, 16 Dec 2008 07:45:46 CEST", 1229406346LL},
    {"Tue, 16 Dec 2008 07:45:46", 1229413546LL},
    {"Tuesday, 16 December 2008 07:45:46 GMT", 1229413546LL},
    {"Tue, 6 Dec 2008 7:05:06 GMT", 1228547106LL},
    {"16-Dec-2008 07:45:46 GMT", 1229413546LL},
    {"Sat, Dec 16 2023 02:02:33 PM", 1702735353LL},
    {"Dec 16, 2023 02:02:33 AM", 1702692153LL},
    {"Sun, 17 Dec 2023 00:58:40 -0500", 1702792720LL},
    {"Wed, 29 Feb 2012 12:00:00 GMT", 1330516800LL},
    {"2008-12-16T07:45:46Z", 1229413546LL},
    {"2008-12-16T07:45:46z", 1229413546LL},
    {"2008-12-16T07:45:46+00:00", 1229413546LL},
    {"2008-12-16T07:45:46+02:00", 1229406346LL},
    {"2008-12-16T07:45:46-08:00", 1229442346LL},
    {"2008-12-16T07:45:46+0200", 1229406346LL},
    {"2008-12-16T07:45:46+02", 1229406346LL},
    {"2008-12-16T07:45:46.123Z", 1229413546LL},
    {"2008-12-16T07:45:46.123456789+01:00", 1229409946LL},
    {"2008-12-16T07:45Z", 1229413500LL},
    {"2008-12-16 07:45:46", 1229413546LL},
    {"2008-12-16 07:45:46 +0100", 1229409946LL},
    {"2008-12-16", 1229385600LL},
    {"2008-12", 1228089600LL},
    {"20081216", 1229385600LL},
    {"20081216T074546Z", 1229413546LL},
    {"  2008-12-16T07:45:46Z  ", 1229413546LL},
    {"2017-06-13T03:18:00+00:0", 1497323880LL},
    {"2004-02-29T23:59:60Z", 1078099199LL},
    {"1999-12-31T23:59:59-00:00", 946684799LL},
    /* forms feedparser's date handlers read (W3DTF, ISO 8601, Perforce, asctime) */
    {"2009-01-12T5:40:14-05:00", 1231756814LL},
    {"2009-1-12T05:40:14-05:00", 1231756814LL},
    {"2004-1-5", 1073260800LL},
    {"2004", 1072915200LL},
    {"2003-335", 1070236800LL},
    {"2004-366", 1104451200LL},
    {"2004-07-08 23:56:58.0", 1089331018LL},
    {"2004-02-28t18:14:55z", 1077992095LL},
    {"2004-07-08T23:56:58-07", 1089356218LL},
    {"2020/1/10 14:33:00", 1578666780LL},
    {"2020/01/10", 1578614400LL},
    {"2020/1/10 2:33:00 PM", 1578666780LL},
    {"2020/1/10 14:33:00 +0100", 1578663180LL},
    {"Fri, 2006/09/15 08:19:53 EDT", 1158322793LL},
    {"Sun Jan  4 16:29:06 PST 2004", 1073262546LL},
    {"Sun Jan  4 16:29:06 2004", 1073233746LL},
    {"Thu, 01 Jan 2004 19:48 GMT+0200", 1072979280LL},
    /* a zone we do not know is UTC, as feedparser reads it; a known prefix counts */
    {"Tue, 10 Jan 2020 14:33:00 Europe/Berlin", 1578666780LL},
    {"2020-01-10T14:33:00 Etc/UTC", 1578666780LL},
    {"01 Jan 2004 19:48:21 EST5EDT", 1073004501LL},
    /* feedparser's Korean, Greek and Hungarian handlers */
    {"2004\xeb\x85\x84 05\xec\x9b\x94 28\xec\x9d\xbc  01:31:15", 1085675475LL},
    {"2004-05-25 \xec\x98\xa4\xed\x9b\x84 11:23:17", 1085494997LL},
    {"2004-05-25 \xec\x98\xa4\xec\xa0\x84 11:23:17", 1085451797LL},
    {"\xce\x9a\xcf\x85\xcf\x81, 11 \xce\x99\xce\xbf\xcf\x8d\xce\xbb 2004 12:00:00 EST",
     1089565200LL},
    {"2004-j\xc3\xbalius-13T9:15-05:00", 1089728100LL},
};

static const char *const bad[] = {
    "",
    "   ",
    "yesterday",
    "2008-13-01",
    "2008-02-30",
    "32 Dec 2008 07:45:46 GMT",
    "Tue, 16 Foo 2008 07:45:46 GMT",
    "2008-12-16T25:00:00Z",
    "2008-12-16T07:61:00Z",
    "not a date at all",
    "16 Dec",
    "2008-12-16T07:45:46+99:00",
    "2009-01-12T5:4:14Z",
    "2003-367",
    "2005-366",
    "2020/13/10",
    "2020/1/10 14:33:00 the day after",
    "20/1/10",
    "2004-j\xc3\xbalember-13T9:15-05:00",
    "2004\xeb\x85\x84 05\xec\x9b\x94 28\xec\x9d\xbc",
};

START_TEST(parses_real_forms)
{
	time_t t = -1;

	ck_assert_msg(date_parse(good[_i].in, &t) == 0, "rejected: %s", good[_i].in);
	ck_assert_msg((long long)t == good[_i].want, "%s: got %lld, want %lld", good[_i].in,
	              (long long)t, good[_i].want);
}
END_TEST

START_TEST(rejects_non_dates)
{
	time_t t = 12345;

	ck_assert_msg(date_parse(bad[_i], &t) == -1, "accepted: \"%s\"", bad[_i]);
	ck_assert_int_eq(t, 12345);
}
END_TEST

START_TEST(null_is_no_date)
{
	time_t t;

	ck_assert_int_eq(date_parse(NULL, &t), -1);
	ck_assert_int_eq(date_parse_since(NULL, &t), -1);
}
END_TEST

START_TEST(formats_rfc3339_utc)
{
	char buf[32];

	ck_assert_int_eq(date_format_rfc3339(1229413546, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "2008-12-16T07:45:46Z");
	ck_assert_int_eq(date_format_rfc3339(1229413546, buf, 10), -1);
}
END_TEST

START_TEST(formats_rfc5322_in_local_zone)
{
	char buf[64];
	time_t back;

	setenv("TZ", "Europe/Paris", 1);
	tzset();
	ck_assert_int_eq(date_format_rfc5322(1229413546, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "Tue, 16 Dec 2008 08:45:46 +0100");
	ck_assert_int_eq(date_parse(buf, &back), 0);
	ck_assert_int_eq(back, 1229413546);
	ck_assert_int_eq(date_format_rfc5322(1215000000, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "Wed, 02 Jul 2008 14:00:00 +0200");
	setenv("TZ", "America/New_York", 1);
	tzset();
	ck_assert_int_eq(date_format_rfc5322(1229413546, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "Tue, 16 Dec 2008 02:45:46 -0500");
	ck_assert_int_eq(date_format_rfc5322(1229413546, buf, 8), -1);
	unsetenv("TZ");
	tzset();
}
END_TEST

START_TEST(since_is_local_midnight_or_rfc3339)
{
	time_t t;

	setenv("TZ", "Europe/Paris", 1);
	tzset();
	ck_assert_int_eq(date_parse_since("2026-11-26", &t), 0);
	ck_assert_int_eq(t, 1795647600); /* 2026-11-25T23:00:00Z */
	ck_assert_int_eq(date_parse_since("2026-07-01", &t), 0);
	ck_assert_int_eq(t, 1782856800); /* summer time: 2026-06-30T22:00:00Z */
	ck_assert_int_eq(date_parse_since("2026-11-26T06:00:00Z", &t), 0);
	ck_assert_int_eq(t, 1795672800);
	ck_assert_int_eq(date_parse_since("2026-11-26T07:00:00+01:00", &t), 0);
	ck_assert_int_eq(t, 1795672800);
	ck_assert_int_eq(date_parse_since("2026-02-30", &t), -1);
	ck_assert_int_eq(date_parse_since("26 Nov 2026", &t), -1);
	ck_assert_int_eq(date_parse_since("yesterday", &t), -1);
	unsetenv("TZ");
	tzset();
}
END_TEST

/* The one form the state file holds: exactly YYYY-MM-DDTHH:MM:SSZ. */
static const struct {
	const char *in;
	long long want;
} strict_good[] = {
    {"2008-12-16T07:45:46Z", 1229413546LL}, {"1970-01-01T00:00:00Z", 0LL},
    {"1970-01-01T00:00:01Z", 1LL},          {"2000-02-29T23:59:59Z", 951868799LL},
    {"2024-02-29T12:00:00Z", 1709208000LL}, {"9999-12-31T23:59:59Z", 253402300799LL},
};

static const char *const strict_bad[] = {
    "",
    "-",
    "2008-12-16T07:45:46",       /* no Z */
    "2008-12-16T07:45:46z",      /* lower case */
    "2008-12-16 07:45:46Z",      /* a space for the T */
    "2008-12-16T07:45:46+00:00", /* an offset */
    "2008-12-16T07:45:46.5Z",    /* a fraction */
    "2008-12-16T07:45Z",         /* no seconds */
    "2008-12-16",                /* a date alone */
    "2008-1-16T07:45:46Z",       /* one-digit month */
    "1969-12-31T23:59:59Z",      /* before the epoch */
    "1900-01-01T00:00:00Z",
    "2008-13-16T07:45:46Z",
    "2008-00-16T07:45:46Z",
    "2008-12-32T07:45:46Z",
    "2008-12-00T07:45:46Z",
    "2100-02-29T00:00:00Z", /* not a leap year */
    "2023-02-29T00:00:00Z",
    "2008-04-31T00:00:00Z",
    "2008-12-16T24:00:00Z", /* the lenient form takes hour 24 */
    "2008-12-16T07:60:00Z",
    "2008-12-16T07:45:60Z", /* nor a leap second */
    "2008-12-16T07:45:4xZ",
    "+008-12-16T07:45:46Z",
    "2008-12-16T07:45:46ZZ",
};

START_TEST(strict_reads_its_one_form)
{
	const char *in = strict_good[_i].in;
	int64_t t = -1;
	time_t lenient = -1;

	ck_assert_msg(date_parse_strict(in, strlen(in), &t) == 0, "rejected: %s", in);
	ck_assert_msg((long long)t == strict_good[_i].want, "%s: got %lld", in, (long long)t);
	/* The lenient parser reads the strict form to the same second. */
	ck_assert_int_eq(date_parse(in, &lenient), 0);
	ck_assert_int_eq((long long)lenient, strict_good[_i].want);
}
END_TEST

START_TEST(strict_refuses_the_rest)
{
	int64_t t = 12345;

	ck_assert_msg(date_parse_strict(strict_bad[_i], strlen(strict_bad[_i]), &t) == -1,
	              "accepted: \"%s\"", strict_bad[_i]);
	ck_assert_int_eq(t, 12345);
}
END_TEST

START_TEST(strict_reads_only_n_bytes)
{
	const char *s = "2008-12-16T07:45:46Zjunk";
	int64_t t = 0;

	ck_assert_int_eq(date_parse_strict(s, 20, &t), 0);
	ck_assert_int_eq(t, 1229413546);
	ck_assert_int_eq(date_parse_strict(s, 24, &t), -1);
	ck_assert_int_eq(date_parse_strict(s, 19, &t), -1);
}
END_TEST

/* Forms only the lenient parser takes, read as before the strict core was shared. */
START_TEST(lenient_edges_unchanged)
{
	time_t t;

	ck_assert_int_eq(date_parse("2008-12-16T24:00:00Z", &t), 0);
	ck_assert_int_eq(t, 1229472000); /* the next midnight */
	ck_assert_int_eq(date_parse("2008-12-31T23:59:60Z", &t), 0);
	ck_assert_int_eq(t, 1230767999); /* a leap second is its :59 */
	ck_assert_int_eq(date_parse("1900-03-01T00:00:00Z", &t), 0);
	ck_assert_int_eq(t, -2203891200LL);
	ck_assert_int_eq(date_parse("1969-12-31T23:00:00-01:00", &t), 0);
	ck_assert_int_eq(t, 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("date");
	TCase *tc = tcase_create("date");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, parses_real_forms, 0, (int)(sizeof good / sizeof good[0]));
	tcase_add_loop_test(tc, rejects_non_dates, 0, (int)(sizeof bad / sizeof bad[0]));
	tcase_add_test(tc, null_is_no_date);
	tcase_add_test(tc, formats_rfc3339_utc);
	tcase_add_test(tc, formats_rfc5322_in_local_zone);
	tcase_add_test(tc, since_is_local_midnight_or_rfc3339);
	tcase_add_loop_test(tc, strict_reads_its_one_form, 0,
	                    (int)(sizeof strict_good / sizeof strict_good[0]));
	tcase_add_loop_test(tc, strict_refuses_the_rest, 0,
	                    (int)(sizeof strict_bad / sizeof strict_bad[0]));
	tcase_add_test(tc, strict_reads_only_n_bytes);
	tcase_add_test(tc, lenient_edges_unchanged);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
