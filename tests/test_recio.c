/* Unit tests for src/recio.c: the state file's fields, written and read back. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "date.h"
#include "recio.h"
#include "util.h"

/* A writer into a temporary file; written() hands back what reached it. */
static struct rec_out
writer(void)
{
	FILE *f = tmpfile();
	struct rec_out o = {.fd = -1};

	ck_assert_ptr_nonnull(f);
	o.fd = dup(fileno(f));
	fclose(f);
	ck_assert_int_ge(o.fd, 0);
	ck_assert_ptr_nonnull(o.buf = malloc(REC_OUT_CHUNK));
	return o;
}

static char *
written(struct rec_out *o, size_t *n)
{
	off_t end;
	char *data;

	rec_flush(o);
	ck_assert_int_eq(o->err, 0);
	end = lseek(o->fd, 0, SEEK_CUR);
	ck_assert_int_ge(end, 0);
	ck_assert_ptr_nonnull(data = malloc((size_t)end + 1));
	ck_assert_int_eq(pread(o->fd, data, (size_t)end, 0), end);
	data[end] = '\0';
	*n = (size_t)end;
	close(o->fd);
	free(o->buf);
	return data;
}

/* Every byte that needs an escape, at every offset of an 8-byte word, next to UTF-8. */
START_TEST(escapes_at_every_offset)
{
	static const char specials[] = "\x01\t\n\r\x1f%\x7f";
	char id[40], want[64], *got;
	size_t n;
	long back;

	for (size_t k = 0; k < sizeof specials - 1; k++)
		for (size_t off = 0; off < 24; off++) {
			struct rec_out o = writer();

			memset(id, 'a', sizeof id - 1);
			id[sizeof id - 1] = '\0';
			id[off] = specials[k];
			id[off + 1] = (char)0xc3;
			rec_field(&o, id, strlen(id));
			got = written(&o, &n);
			snprintf(want, sizeof want, "\t%.*s%%%02X\xc3%s", (int)off, id,
			         (unsigned char)specials[k], id + off + 2);
			ck_assert_msg(strcmp(got, want) == 0, "byte %02x at %zu: %s",
			              (unsigned char)specials[k], off, got);
			back = pct_decode(got + 1, n - 1);
			ck_assert_int_eq(back, (long)strlen(id));
			ck_assert(memcmp(got + 1, id, strlen(id)) == 0);
			free(got);
		}
}
END_TEST

START_TEST(none_and_dash)
{
	struct rec_out o = writer();
	char *got;
	size_t n;

	rec_str(&o, NULL);
	rec_str(&o, "-");
	rec_str(&o, "--");
	rec_str(&o, "");
	rec_num(&o, -5);
	rec_num(&o, 9223372036854775807LL);
	rec_eol(&o);
	got = written(&o, &n);
	ck_assert_str_eq(got, "\t-\t%2D\t--\t\t0\t9223372036854775807\n");
	free(got);
}
END_TEST

/* Times are written as dates, leap days included, and read back by the strict parser. */
START_TEST(times_as_dates)
{
	static const struct {
		int64_t t;
		const char *text;
	} known[] = {
	    {1, "1970-01-01T00:00:01Z"},
	    {951782400, "2000-02-29T00:00:00Z"},
	    {951868799, "2000-02-29T23:59:59Z"},
	    {951868800, "2000-03-01T00:00:00Z"},
	    {4107542399LL, "2100-02-28T23:59:59Z"},
	    {4107542400LL, "2100-03-01T00:00:00Z"},
	    {253402300799LL, "9999-12-31T23:59:59Z"},
	    {253402300800LL, "9999-12-31T23:59:59Z"}, /* later: written as the last */
	    {0, "-"},
	    {-7, "-"},
	};
	struct rec_out o = writer();
	char *got, *p, *tab;
	size_t n, i;
	int64_t back;

	for (i = 0; i < sizeof known / sizeof known[0]; i++)
		rec_time(&o, known[i].t);
	got = written(&o, &n);
	for (i = 0, p = got + 1; i < sizeof known / sizeof known[0]; i++, p = tab + 1) {
		tab = strchr(p, '\t');
		if (tab == NULL)
			tab = p + strlen(p);
		ck_assert_msg((size_t)(tab - p) == strlen(known[i].text) &&
		                  memcmp(p, known[i].text, strlen(known[i].text)) == 0,
		              "%lld: %.*s", (long long)known[i].t, (int)(tab - p), p);
		if (known[i].t > 0 && known[i].t <= REC_MAX_TIME) {
			ck_assert_int_eq(date_parse_strict(p, (size_t)(tab - p), &back), 0);
			ck_assert_int_eq(back, known[i].t);
		}
	}
	free(got);
}
END_TEST

/* Many times in a row, same day or not (the writer reuses the last date): each as gmtime says. */
START_TEST(times_in_a_row)
{
	struct rec_out o = writer();
	unsigned seed = 7;
	int64_t t[2000];
	char *got, *p, want[32];
	size_t n;

	for (int i = 0; i < 2000; i++) {
		t[i] = i % 3 ? t[i - 1] + rand_r(&seed) % 5000 : rand_r(&seed) % 2000000000 + 1;
		rec_time(&o, t[i]);
	}
	got = written(&o, &n);
	ck_assert_uint_eq(n, 2000 * 21);
	for (int i = 0; i < 2000; i++) {
		p = got + i * 21 + 1;
		ck_assert_int_eq(date_format_rfc3339((time_t)t[i], want, sizeof want), 0);
		ck_assert_msg(memcmp(p, want, 20) == 0, "%lld: %.20s, want %s", (long long)t[i], p,
		              want);
	}
	free(got);
}
END_TEST

START_TEST(numbers_strict)
{
	static const char *const bad[] = {"",   "01", "-1",   "+1",
	                                  "1a", " 1", "1000", "1234567890123456789"};
	long long v = -1;

	ck_assert_int_eq(rec_parse_num("0", 1, 999, &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(rec_parse_num("999", 3, 999, &v), 0);
	ck_assert_int_eq(v, 999);
	ck_assert_int_eq(rec_parse_num("123456789012345678", 18, 1LL << 62, &v), 0);
	ck_assert_int_eq(v, 123456789012345678LL);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = 42;
		ck_assert_msg(rec_parse_num(bad[i], strlen(bad[i]), 999, &v) < 0, "took \"%s\"",
		              bad[i]);
		ck_assert_int_eq(v, 42);
	}
}
END_TEST

/* A reader over data: lines across chunks, a line longer than a chunk, a tail, a NUL. */
static struct rec_in
reader(const char *data, size_t n)
{
	FILE *f = tmpfile();
	struct rec_in r = {.fd = -1, .cap = REC_READ_CHUNK};

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, n, f), n);
	ck_assert_int_eq(fflush(f), 0);
	r.fd = dup(fileno(f));
	fclose(f);
	ck_assert_int_eq(lseek(r.fd, 0, SEEK_SET), 0);
	ck_assert_ptr_nonnull(r.buf = malloc(REC_READ_CHUNK));
	return r;
}

START_TEST(lines_of_any_length)
{
	size_t big = 3u * REC_READ_CHUNK, n, len;
	char *data = malloc(big + 32), *line;
	struct rec_in r;
	int tail = 0, err = 0;

	ck_assert_ptr_nonnull(data);
	memcpy(data, "one\n\ntwo\n", 9);
	memset(data + 9, 'x', big);
	memcpy(data + 9 + big, "\nlast", 5);
	n = 9 + big + 5;
	r = reader(data, n);
	ck_assert_int_eq(rec_read_line(&r, &line, &len, &tail, &err), 1);
	ck_assert_str_eq(line, "one");
	ck_assert_int_eq(rec_read_line(&r, &line, &len, &tail, &err), 1);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(rec_read_line(&r, &line, &len, &tail, &err), 1);
	ck_assert_str_eq(line, "two");
	ck_assert_int_eq(rec_read_line(&r, &line, &len, &tail, &err), 1);
	ck_assert_uint_eq(len, big);
	ck_assert(line[0] == 'x' && line[big - 1] == 'x' && line[big] == '\0');
	ck_assert_int_eq(rec_read_line(&r, &line, &len, &tail, &err), 0);
	ck_assert_int_eq(tail, 1);
	ck_assert_int_eq(r.nul, 0);
	close(r.fd);
	free(r.buf);
	r = reader("a\0b\n", 4);
	ck_assert_int_eq(rec_read_line(&r, &line, &len, &tail, &err), 1);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(r.nul, 1);
	tail = 1;
	ck_assert_int_eq(rec_read_line(&r, &line, &len, &tail, &err), 0);
	ck_assert_int_eq(tail, 0);
	close(r.fd);
	free(r.buf);
	free(data);
}
END_TEST

/* The first write error is kept, and nothing is written after it. */
START_TEST(write_error_kept)
{
	struct rec_out o = {.fd = open("/dev/full", O_WRONLY | O_CLOEXEC)};
	char *chunk = malloc(REC_OUT_CHUNK);

	ck_assert_int_ge(o.fd, 0);
	ck_assert_ptr_nonnull(o.buf = malloc(REC_OUT_CHUNK));
	ck_assert_ptr_nonnull(chunk);
	memset(chunk, 'x', REC_OUT_CHUNK);
	rec_raw(&o, chunk, REC_OUT_CHUNK);
	rec_raw(&o, chunk, 1); /* more than a buffer: flushed on the way */
	ck_assert_int_eq(o.err, ENOSPC);
	rec_str(&o, "more");
	rec_flush(&o);
	ck_assert_int_eq(o.err, ENOSPC);
	ck_assert_uint_eq(o.len, 0);
	close(o.fd);
	free(o.buf);
	free(chunk);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("recio");
	TCase *tc = tcase_create("recio");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, escapes_at_every_offset);
	tcase_add_test(tc, none_and_dash);
	tcase_add_test(tc, times_as_dates);
	tcase_add_test(tc, times_in_a_row);
	tcase_add_test(tc, numbers_strict);
	tcase_add_test(tc, lines_of_any_length);
	tcase_add_test(tc, write_error_kept);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
