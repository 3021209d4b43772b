#include "run.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "date.h"
#include "deliver.h"
#include "digest.h"
#include "feed.h"
#include "fetch.h"
#include "handoff.h"
#include "history.h"
#include "journal.h"
#include "message.h"
#include "polling.h"
#include "select.h"
#include "spool.h"
#include "state.h"
#include "statelock.h"

/* What a command does with the pipeline. */
struct mode {
	enum select_mode select;
	int conditional; /* send validators, honour interval and retry-after */
	int deliver;     /* hand messages to cfg->deliver (else to stdout) */
	int record;      /* write the state back */
	int lock;        /* hold STATE.lock */
	int preview;     /* stop after rendering the first digest */
};

/* One configured feed during this run. */
struct feed_run {
	struct source *src; /* in run.sources: conf + what was parsed (src->feed) */
	struct feed parsed;
	int wanted;               /* some selected subscription reads it */
	int unconditional;        /* fetch without validators */
	char *sent_etag;          /* the validators asked with: copies, since a parse */
	char *sent_last_modified; /* thread may replace the state's while this waits */
	char *new_etag;           /* validators to store once its items are safe */
	char *new_last_modified;
	time_t prev_last_fetch; /* restored while its items are pending (interval) */
};

struct run {
	const struct cli *cli;
	struct mode mode;
	struct config cfg;
	int have_cfg;
	struct state *st;
	struct state_lock *lock;
	struct journal *journal; /* each accepted digest's records, before the next is sent */
	struct digest_templates *tpl;
	struct spool *spool;         /* the items' content, rendered or stashed */
	FILE *digests;               /* every digest's message, one after the other */
	FILE *digests_read;          /* the same file for the sending thread (its own FILE) */
	struct err journal_err;      /* the sending thread's: why the journal stopped it */
	struct err items_err;        /* a parse thread's: the state's items could not be read */
	struct rcpt_run *rcpt_slots; /* every recipient's copy of its digest (select_digests) */
	off_t digests_end;
	struct feed_run *feeds;
	struct source *sources; /* per feed, contiguous for select */
	int *sub_selected;      /* per subscription */
	time_t now;
	int status;   /* the exit status so far */
	int progress; /* stderr is a terminal: keep a live count there */
	size_t nrequests;
	size_t nfetched;
	size_t nfailed;        /* for the live line */
	pthread_mutex_t guard; /* parse threads: the state, the counts */
};

/* One line on stderr, "tidings: " first. */
static void
vline(const char *fmt, va_list ap)
{
	char line[4096];

	/* Feed and server text is quoted here: no control character passes. */
	vsnprintf(line, sizeof line, fmt, ap);
	flockfile(stderr); /* parse threads talk too: whole lines */
	fputs("tidings: ", stderr);
	fputs_clean(line, stderr);
	fputc('\n', stderr);
	funlockfile(stderr);
}

/* Problems: one line each, always. */
static void __attribute__((format(printf, 1, 2))) complain(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(fmt, ap);
	va_end(ap);
}

/* Progress for -v; cron stays silent otherwise. */
static void __attribute__((format(printf, 2, 3))) say(const struct run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->cli->verbose == 0 || r->cli->quiet)
		return;
	va_start(ap, fmt);
	vline(fmt, ap);
	va_end(ap);
}

/* The live line a person at a terminal sees; erased before anything else is said. */
static void __attribute__((format(printf, 2, 3)))
progress(const struct run *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->progress)
		return;
	flockfile(stderr);
	fputs("\r\033[K", stderr);
	if (fmt != NULL) {
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	funlockfile(stderr);
}

/* Keep the worst status: temporary failures (75) outrank success, hard ones outrank both. */
static void
worsen(struct run *r, int status)
{
	if (status == EX_OK)
		return;
	if (r->status == EX_OK || r->status == EX_TEMPFAIL)
		r->status = status;
}

static int
fail(struct run *r, const struct err *e)
{
	complain("%s", e->msg);
	worsen(r, e->code ? e->code : EX_SOFTWARE);
	return -1;
}

/* ---- set-up ---- */

static int
select_subscriptions(struct run *r, struct err *e)
{
	const struct feed_conf *fc = NULL;

	r->sub_selected = calloc(r->cfg.nsubs + 1, sizeof *r->sub_selected);
	if (r->sub_selected == NULL)
		return err_oom(e);
	for (size_t i = 0; i < r->cfg.nsubs; i++)
		r->sub_selected[i] = r->cli->subs.n == 0;
	for (size_t j = 0; j < r->cli->subs.n; j++) {
		const struct sub_conf *s = config_sub(&r->cfg, r->cli->subs.v[j]);

		if (s == NULL)
			return err_set(e, EX_USAGE, "no subscription named '%s' in %s",
			               r->cli->subs.v[j], r->cfg.path);
		r->sub_selected[s - r->cfg.subs] = 1;
	}
	if (r->cli->feed != NULL && (fc = config_feed(&r->cfg, r->cli->feed)) == NULL)
		return err_set(e, EX_USAGE, "no feed named '%s' in %s", r->cli->feed, r->cfg.path);
	/* Not an error (the user paused it), but a catch-up doing nothing silently misleads. */
	if (fc != NULL && !fc->active && !r->cli->quiet)
		complain("feed %s is paused (active = false): nothing to catch up", fc->name);
	return 0;
}

/* catch-up --feed NAME: that feed alone. */
static int
feed_selected(const struct run *r, const struct feed_conf *fc)
{
	return r->cli->feed == NULL || strcmp(r->cli->feed, fc->name) == 0;
}

/* Which feeds this run needs, and which must be fetched whole. */
static void
plan_feeds(struct run *r)
{
	for (size_t f = 0; f < r->cfg.nfeeds; f++) {
		struct feed_run *fr = &r->feeds[f];

		fr->src = &r->sources[f];
		fr->src->conf = &r->cfg.feeds[f];
		fr->unconditional = !r->mode.conditional;
		if (!fr->src->conf->active)
			continue; /* paused: not fetched, its items not offered, its state kept */
		for (size_t s = 0; feed_selected(r, fr->src->conf) && s < r->cfg.nsubs; s++) {
			if (!r->sub_selected[s] ||
			    !select_sub_reads_feed(&r->cfg.subs[s], fr->src->conf))
				continue;
			fr->wanted = 1;
			/* A subscription's first run must see every item, not a 304. */
			if (!state_sub_known(r->st, r->cfg.subs[s].name))
				fr->unconditional = 1;
		}
	}
}

static int
setup(struct run *r, struct err *e)
{
	r->now = time(NULL);
	r->status = EX_OK;
	r->progress = isatty(STDERR_FILENO) && !r->cli->quiet;
	if (config_open(r->cli->config_path, &r->cfg, stderr, e) < 0)
		return -1;
	r->have_cfg = 1;
	if (r->mode.lock && state_lock(r->cfg.state_path, &r->lock, e) < 0)
		return -1;
	/* The item records wait until a feed has news (state_load_items). */
	if (state_open(r->cfg.state_path, &r->st, e) < 0 ||
	    journal_replay(r->cfg.state_path, r->st, e) < 0)
		return -1;
	if (digest_templates_load(&r->cfg, &r->tpl, e) < 0)
		return -1;
	r->feeds = calloc(r->cfg.nfeeds + 1, sizeof *r->feeds);
	r->sources = calloc(r->cfg.nfeeds + 1, sizeof *r->sources);
	if (r->feeds == NULL || r->sources == NULL)
		return err_oom(e);
	if (spool_new(&r->spool, r->cli->verbose && !r->cli->quiet ? stderr : NULL, e) < 0)
		return -1;
	if (select_subscriptions(r, e) < 0)
		return -1;
	plan_feeds(r);
	return 0;
}

/* ---- fetch and parse ---- */

static int
is_file_url(const char *url)
{
	return strncmp(url, "file:", 5) == 0;
}

/* Reports cross the report-after threshold once; -v narrates every failure. */
static void
report_poll(const struct run *r, const struct feed_conf *fc, enum poll_report rep, const char *msg,
            const struct fetch_result *res)
{
	if (rep != POLL_REPORT_NONE && !r->cli->quiet)
		complain("feed %s: %s", fc->name, msg);
	else if (res->outcome != FETCH_OK && res->outcome != FETCH_NOT_MODIFIED)
		say(r, "feed %s: %s", fc->name, res->error);
}

/* Apply the outcome to the feed's record, holding back new validators. */
static void
update_feed_state(struct run *r, struct feed_run *fr, const struct fetch_result *res)
{
	struct feed_state *fs = state_feed(r->st, fr->src->conf->url, 1);
	char *etag, *last_modified, msg[512] = "";
	enum poll_report rep;

	if (fs == NULL) {
		complain("feed %s: out of memory", fr->src->conf->name);
		return;
	}
	etag = str_dup(fs->etag);
	last_modified = str_dup(fs->last_modified);
	fr->prev_last_fetch = fs->last_fetch;
	rep = poll_update(fs, res, r->now, r->cfg.fetch.report_after, msg, sizeof msg);
	if (res->outcome == FETCH_OK) {
		fr->new_etag = fs->etag;
		fr->new_last_modified = fs->last_modified;
		fs->etag = etag;
		fs->last_modified = last_modified;
	} else {
		free(etag);
		free(last_modified);
	}
	report_poll(r, fr->src->conf, rep, msg, res);
}

/* The feed's items' content into the spool, as the plan says (spool.h). */
static void
keep_what_digests_need(struct run *r, struct feed_run *fr)
{
	struct spool_plan p = {
	    .cfg = &r->cfg,
	    .sub_selected = r->sub_selected,
	    .st = r->st,
	    .select = {.mode = r->mode.select, .now = r->now, .since = r->cli->since},
	};
	unsigned char *need;
	struct err e = {0};

	pthread_mutex_lock(&r->guard); /* the state is read here and written by other threads */
	/* The first feed with news reads the state's items.  If they cannot be read, the
	 * run ends once the fetch is over (pipeline), before anything is sent. */
	if (state_load_items(r->st, &e) < 0) {
		if (r->items_err.code == 0)
			r->items_err = e;
		pthread_mutex_unlock(&r->guard);
		return;
	}
	need = spool_plan(&p, fr->src->conf, &fr->parsed);
	pthread_mutex_unlock(&r->guard);
	spool_keep(r->spool, &fr->parsed, fr->src->conf, need);
	free(need);
}

static void
parse_body(struct run *r, struct feed_run *fr, struct fetch_result *res)
{
	struct err e = {0};

	if (feed_parse(res->body, res->len, fr->src->conf->url, &fr->parsed, &e) < 0) {
		/* A feed that does not parse counts as a failed fetch. */
		res->outcome = FETCH_FAILED;
		snprintf(res->error, sizeof res->error, "%.*s", (int)sizeof res->error - 1, e.msg);
		return;
	}
	fr->src->feed = &fr->parsed;
	keep_what_digests_need(r, fr);
	if (fr->parsed.warning)
		say(r, "feed %s: %s", fr->src->conf->name, fr->parsed.warning);
	say(r, "feed %s: %zu item%s", fr->src->conf->name, fr->parsed.nitems,
	    fr->parsed.nitems == 1 ? "" : "s");
}

static void
on_fetched(const struct fetch_request *req, struct fetch_result *res, void *arg)
{
	struct run *r = arg;
	struct feed_run *fr = req->userdata;

	progress(r, NULL);
	if (res->outcome == FETCH_OK)
		parse_body(r, fr, res);
	else if (res->outcome == FETCH_NOT_MODIFIED)
		say(r, "feed %s: not modified", fr->src->conf->name);
	pthread_mutex_lock(&r->guard);
	/* Another thread may have drawn it since: a notice starts its own line. */
	progress(r, NULL);
	if (r->mode.record)
		update_feed_state(r, fr, res);
	else if (res->outcome != FETCH_OK && res->outcome != FETCH_NOT_MODIFIED)
		complain("feed %s: %s", fr->src->conf->name, res->error);
	if (res->outcome != FETCH_OK && res->outcome != FETCH_NOT_MODIFIED)
		r->nfailed++;
	progress(r, "tidings: fetching %zu/%zu feeds, %zu failed", ++r->nfetched, r->nrequests,
	         r->nfailed);
	pthread_mutex_unlock(&r->guard);
}

static int
due(struct run *r, const struct feed_run *fr)
{
	const struct feed_state *fs = state_feed(r->st, fr->src->conf->url, 0);
	char why[256] = "";

	if (!r->mode.conditional || fs == NULL)
		return 1;
	if (poll_due(fs, fr->src->conf->interval, r->now, why, sizeof why))
		return 1;
	say(r, "feed %s: not polled: %s", fr->src->conf->name, why);
	return 0;
}

static int
request_for(struct run *r, struct feed_run *fr, struct fetch_request *q)
{
	const struct feed_state *fs = state_feed(r->st, fr->src->conf->url, 0);

	memset(q, 0, sizeof *q);
	q->url = fr->src->conf->url;
	q->user_agent = fr->src->conf->user_agent;
	q->proxy = fr->src->conf->proxy;
	q->insecure = fr->src->conf->insecure;
	q->allow_file = is_file_url(q->url);
	q->userdata = fr;
	if (fs == NULL || fr->unconditional)
		return 0;
	/* Two feeds may share a URL: the first one's result replaces these in the state. */
	fr->sent_etag = str_dup(fs->etag);
	fr->sent_last_modified = str_dup(fs->last_modified);
	if ((fs->etag && !fr->sent_etag) || (fs->last_modified && !fr->sent_last_modified))
		return -1;
	q->etag = fr->sent_etag;
	q->last_modified = fr->sent_last_modified;
	return 0;
}

static struct fetch_options
fetch_options_of(const struct run *r)
{
	long timeout = r->cfg.fetch.timeout;

	return (struct fetch_options){
	    .timeout = timeout,
	    .connect_timeout = timeout < FETCH_CONNECT_TIMEOUT ? timeout : FETCH_CONNECT_TIMEOUT,
	    .parallel = r->cfg.fetch.parallel,
	    .per_host = r->cfg.fetch.per_host,
	    .max_size = r->cfg.fetch.max_size,
	    .user_agent = r->cfg.fetch.user_agent,
	    .proxy = r->cfg.fetch.proxy,
	};
}

static int
fetch_feeds(struct run *r, struct err *e)
{
	struct fetch_request *reqs = calloc(r->cfg.nfeeds + 1, sizeof *reqs);
	struct fetch_options opt = fetch_options_of(r);
	struct handoff *h = NULL;
	size_t n = 0, threads = handoff_workers();
	int rc;

	if (reqs == NULL)
		return err_oom(e);
	for (size_t f = 0; f < r->cfg.nfeeds; f++)
		if (r->feeds[f].wanted && due(r, &r->feeds[f]) &&
		    request_for(r, &r->feeds[f], &reqs[n++]) < 0) {
			free(reqs);
			return err_oom(e);
		}
	say(r, "fetching %zu of %zu feed%s", n, r->cfg.nfeeds, r->cfg.nfeeds == 1 ? "" : "s");
	r->nrequests = n;
	if (n)
		progress(r, "tidings: fetching 0/%zu feeds, 0 failed", n);
	/*
	 * Parse on other threads while the rest download, one per processor:
	 * parsing and rendering cost more than downloading.  A few waiting
	 * bodies keep them busy; more would only cost memory.
	 */
	rc = n ? handoff_start(&h, threads + 1, threads, on_fetched, r, e) : 0;
	if (rc == 0 && n)
		rc = fetch_all(reqs, n, &opt, handoff_result, h, e);
	handoff_finish(h);
	progress(r, NULL);
	free(reqs);
	return rc;
}

/* What paging back did, for the user: a gap in the history is a problem. */
static void
report_history(const struct run *r, const struct feed_conf *fc, const struct history_feed *hf)
{
	if (hf->stop == HISTORY_FAILED)
		complain("feed %s: older items are missing: %s", fc->name, hf->detail);
	else if (hf->stop == HISTORY_MAX_PAGES)
		complain("feed %s: older items are missing: stopped after %zu older pages "
		         "(fetch.max-pages)",
		         fc->name, hf->pages);
	else if (hf->pages > 0)
		say(r, "feed %s: %zu older pages, %zu more items (%s)", fc->name, hf->pages,
		    hf->added, history_stop_text(hf->stop));
}

/* --since reaching past what a feed lists now: its older pages (history.h). */
static int
fetch_history(struct run *r, struct err *e)
{
	struct fetch_options opt = fetch_options_of(r);
	struct history_feed *hf;
	size_t n = 0;
	int rc;

	if (r->mode.select != SELECT_SINCE || r->cfg.fetch.max_pages == 0)
		return 0;
	if ((hf = calloc(r->cfg.nfeeds + 1, sizeof *hf)) == NULL)
		return err_oom(e);
	for (size_t f = 0; f < r->cfg.nfeeds; f++) {
		const struct feed_conf *fc = r->feeds[f].src->conf;

		if (r->feeds[f].src->feed != NULL)
			hf[n++] = (struct history_feed){.url = fc->url,
			                                .user_agent = fc->user_agent,
			                                .proxy = fc->proxy,
			                                .insecure = fc->insecure,
			                                .allow_file = is_file_url(fc->url),
			                                .feed = &r->feeds[f].parsed};
	}
	rc = history_extend(hf, n, r->cli->since, r->cfg.fetch.max_pages, &opt, e);
	for (size_t f = 0, i = 0; i < n; f++)
		if (r->feeds[f].src->feed != NULL)
			report_history(r, r->feeds[f].src->conf, &hf[i++]);
	free(hf);
	return rc;
}

/* Refresh last-seen times and prune ids that left their feed long ago. */
static int
note_present_items(struct run *r, struct err *e)
{
	for (size_t f = 0; f < r->cfg.nfeeds; f++) {
		const struct feed *fd = r->feeds[f].src->feed;
		char **ids;

		if (fd == NULL)
			continue;
		if ((ids = calloc(fd->nitems + 1, sizeof *ids)) == NULL)
			return err_oom(e);
		for (size_t i = 0; i < fd->nitems; i++)
			ids[i] = fd->items[i].id;
		if (state_feed_seen(r->st, r->feeds[f].src->conf->url, ids, fd->nitems, r->now,
		                    r->cfg.retention) < 0) {
			free(ids);
			return err_oom(e);
		}
		free(ids);
	}
	return 0;
}

/* ---- digests ---- */

/* One recipient's copy of a digest: To that recipient alone. */
struct rcpt_run {
	const char *mailbox; /* as configured, display name and all: the To header */
	char *addr;          /* the bare address: the envelope and the state */
	off_t message_off;   /* its message in run.digests; 0 bytes: none */
	size_t message_len;
	enum delivery_status status;
	struct sub_run *sr; /* whose copy it is */
	struct outmsg *out; /* its delivery, published once written (NULL: none) */
};

/*
 * A digest of one subscription for the recipients who lack the same
 * items: all of them, unless an earlier run reached only some.  Rendered
 * once, written once per recipient.
 */
struct sub_run {
	struct run *run;
	const struct sub_conf *sub;
	struct picks picks;
	struct rcpt_run *rcpts;
	size_t nrcpt;
	int shows;  /* it has a digest to send: its picks show items */
	FILE *html; /* preview --html: the HTML part */
	size_t html_len;
	char message_id[256]; /* the first recipient's, for -v */
};

static int
has_digest(const struct sub_run *sr)
{
	return sr->nrcpt > 0 && sr->shows;
}

/* Has any subscription a digest? */
static int
any_digest(const struct sub_run *subs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (has_digest(&subs[i]))
			return 1;
	return 0;
}

static void
list_id(const struct run *r, const struct sub_conf *sub, char *out, size_t size)
{
	const char *at = strrchr(r->cfg.from, '@');
	size_t n = 0;

	/* List-Id wants a dot-atom: keep letters and digits, the rest becomes '-'. */
	for (const char *p = sub->name; *p && n + 1 < size; p++)
		out[n++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '-';
	out[n] = '\0';
	if (at != NULL)
		snprintf(out + n, size - n, ".%.*s", (int)strcspn(at + 1, ">\" "), at + 1);
}

/* One file for all digests: a thousand subscriptions must not take a thousand descriptors. */
static int
digests_file(struct run *r, struct err *e)
{
	if (r->digests == NULL && (r->digests = temp_file("digests", e)) == NULL)
		return -1;
	return 0;
}

/*
 * Each recipient's message goes to a temporary file as it is encoded: a
 * digest can be huge.  The parts are rendered once and read again for
 * each.  Each is published to its delivery as soon as it is written.
 */
static int
build_message(struct run *r, struct sub_run *sr, struct digest_output *d, struct err *e)
{
	char lid[256], id[256];
	size_t len;
	struct message_spec m = {
	    .from = r->cfg.from,
	    .nto = 1,
	    .subject = buf_str(&d->subject),
	    .date = r->now,
	    .list_id = lid,
	    .list_unsubscribe = sr->sub->list_unsubscribe,
	    .text_file = d->text,
	    .html_file = d->html,
	};

	list_id(r, sr->sub, lid, sizeof lid);
	if (digests_file(r, e) < 0)
		return -1;
	for (size_t k = 0; k < sr->nrcpt; k++) {
		struct rcpt_run *rr = &sr->rcpts[k];

		m.to = (char *const *)&rr->mailbox;
		if (fseeko(r->digests, r->digests_end, SEEK_SET) != 0 ||
		    fseeko(d->text, 0, SEEK_SET) != 0 || fseeko(d->html, 0, SEEK_SET) != 0)
			return err_set(e, EX_IOERR, "%s: cannot write the digests: %s", temp_dir(),
			               strerror(errno));
		if (message_write(&m, r->digests, &len, k ? id : sr->message_id,
		                  k ? sizeof id : sizeof sr->message_id, e) < 0) {
			/* An unwritable file is $TMPDIR's fault; a bad header is the config's. */
			if (e->code == EX_IOERR)
				return err_prefix(e, "%s", temp_dir());
			return err_prefix(e, "%s:%d", sr->sub->file, sr->sub->line);
		}
		rr->message_off = r->digests_end;
		rr->message_len = len;
		r->digests_end += (off_t)len;
		/* message_write flushed it: the sending thread may read it */
		if (rr->out != NULL)
			outgate_publish(rr->out->gate, rr->out, rr->message_off, len);
	}
	if (r->mode.preview) { /* --html writes the HTML part out */
		sr->html = d->html;
		sr->html_len = d->html_len;
		d->html = NULL;
	}
	return 0;
}

/* "7d", "36h", "90s": a duration as a config file would say it. */
static void
format_duration(time_t secs, char *out, size_t size)
{
	static const struct {
		time_t secs;
		char unit;
	} units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
	size_t u = 0;

	while (u + 1 < sizeof units / sizeof units[0] && secs % units[u].secs != 0)
		u++;
	snprintf(out, size, "%lld%c", (long long)(secs / units[u].secs), units[u].unit);
}

/* -v: what the first-run rule kept from the digest, per feed. */
static void
report_first_run(const struct run *r, const struct sub_run *sr)
{
	char age[32];
	size_t *old;

	if (r->mode.select != SELECT_NEW || r->cli->verbose == 0 || r->cli->quiet)
		return;
	if ((old = calloc(r->cfg.nfeeds + 1, sizeof *old)) == NULL)
		return; /* only a progress line lost */
	for (size_t i = 0; i < sr->picks.n; i++)
		old[sr->picks.v[i].source] += sr->picks.v[i].kind == PICK_OLD;
	format_duration(sr->sub->first_run, age, sizeof age);
	for (size_t f = 0; f < r->cfg.nfeeds; f++)
		if (old[f] > 0)
			say(r, "subscription %s, feed %s: first run, %zu items older than %s %s",
			    sr->sub->name, r->cfg.feeds[f].name, old[f], age,
			    r->mode.record ? "recorded without sending"
			                   : "left out (not recorded)");
	free(old);
}

/* Render sr's picks, selected already, and write each recipient's message. */
static int
build_digest(struct run *r, struct sub_run *sr, struct err *e)
{
	struct digest_input in = {
	    .cfg = &r->cfg,
	    .sub = sr->sub,
	    .src = r->sources,
	    .nsrc = r->cfg.nfeeds,
	    .picks = &sr->picks,
	    .st = r->st,
	    .spool = r->spool,
	    .now = r->now,
	    .have_since = r->cli->have_since,
	    .since = r->cli->since,
	};
	struct digest_output d;
	int rc;

	if (sr->picks.held_back)
		say(r, "subscription %s: %zu more item%s wait%s for the next run (max-items)",
		    sr->sub->name, sr->picks.held_back, sr->picks.held_back == 1 ? "" : "s",
		    sr->picks.held_back == 1 ? "s" : "");
	if (sr->picks.nshow == 0 || r->mode.select == SELECT_ALL) {
		say(r, "subscription %s: nothing new", sr->sub->name);
		return 0;
	}
	if (digest_render(&in, r->tpl, &d, e) < 0)
		return err_prefix(e, "subscription %s", sr->sub->name);
	rc = build_message(r, sr, &d, e);
	digest_output_free(&d);
	if (rc < 0)
		return err_prefix(e, "subscription %s", sr->sub->name);
	say(r, "subscription %s: digest of %zu item%s for %zu recipient%s, %s", sr->sub->name,
	    sr->picks.nshow, sr->picks.nshow == 1 ? "" : "s", sr->nrcpt, sr->nrcpt == 1 ? "" : "s",
	    sr->message_id);
	return 0;
}

static int
write_preview(const struct run *r, const struct sub_run *sr, struct err *e)
{
	const char *path = r->cli->html_out ? r->cli->html_out : "stdout";
	FILE *fp = r->cli->html_out ? fopen(path, "w") : stdout;
	int bad;

	if (fp == NULL)
		return err_set(e, EX_CANTCREAT, "%s: %s", path, strerror(errno));
	bad = r->cli->html_out ? file_copy(sr->html, 0, sr->html_len, fp) != 0
	                       : file_copy(r->digests, sr->rcpts[0].message_off,
	                                   sr->rcpts[0].message_len, fp) != 0;
	bad |= fp == stdout ? fflush(fp) != 0 : fclose(fp) != 0;
	if (bad)
		return err_set(e, EX_IOERR, "%s: %s", path, strerror(errno));
	return 0;
}

/* Each recipient's message stands alone: a refusal holds back only that recipient's items. */
static void
report_delivery(struct run *r, const struct sub_run *sr, struct rcpt_run *rr,
                const struct outmsg *m)
{
	rr->status = m->status;
	if (m->status != DELIVERY_ACCEPTED && sr->sub->to.n > 1)
		complain("subscription %s: digest to %s not delivered: %s", sr->sub->name, rr->addr,
		         m->detail);
	else if (m->status != DELIVERY_ACCEPTED)
		complain("subscription %s: digest not delivered: %s", sr->sub->name, m->detail);
	else if (m->refused != DELIVERY_PENDING)
		complain("subscription %s: digest delivered, but %s", sr->sub->name, m->detail);
	worsen(r, delivery_exit(m->status));
	worsen(r, delivery_exit(m->refused));
}

static int journal_message(struct outmsg *m, void *arg);

/* Where a subscription's digests go this run (--dry-run: mbox on stdout). */
static void
delivery_of(const struct run *r, const struct sub_run *sr, enum deliver_kind *kind,
            const char **path)
{
	*kind = r->mode.deliver ? sr->sub->deliver : DELIVER_STDOUT;
	*path = r->mode.deliver ? sr->sub->deliver_path : NULL;
}

/* ---- delivery, while later digests are written ---- */

/* Messages that go the same way (kind and path): one deliver() call, one SMTP session. */
struct batch {
	enum deliver_kind kind;
	const char *path;
	struct outmsg *msgs; /* a run of sending.msgs */
	struct rcpt_run **who;
	size_t n;
	int rc;       /* deliver()'s */
	struct err e; /* why, when rc < 0 */
};

/*
 * The run's deliveries, planned before the first digest is written and
 * made on a thread of their own as the digests are written: the server
 * takes one digest while the next is rendered.
 */
struct sending {
	const struct config *cfg;
	FILE *log;
	char *from;            /* the envelope sender */
	struct outgate gate;   /* the digests written so far */
	struct outmsg *msgs;   /* every copy, batch after batch */
	struct rcpt_run **who; /* whose each is */
	struct batch *batches;
	size_t nbatches;
	pthread_t thread;
	int threaded; /* the thread runs: join it */
	int gate_ok;
};

static void
add_message(struct run *r, struct sending *s, struct batch *b, struct rcpt_run *rr)
{
	b->who[b->n] = rr;
	b->msgs[b->n] = (struct outmsg){
	    .file = r->digests_read,
	    .gate = &s->gate,
	    .seq = (size_t)(rr - r->rcpt_slots), /* slots are in the order digests are written */
	    .envelope_from = s->from,
	    .rcpt = &rr->addr,
	    .nrcpt = 1,
	    .accepted = r->journal ? journal_message : NULL,
	    .arg = rr,
	};
	rr->out = &b->msgs[b->n++];
}

/* Every digest that goes the way of subs[first]'s joins its batch. */
static void
add_batch(struct run *r, struct sending *s, struct sub_run *subs, size_t nsubs, size_t first,
          char *done, size_t *used)
{
	struct batch *b = &s->batches[s->nbatches++];
	enum deliver_kind kind;
	const char *path;

	delivery_of(r, &subs[first], &b->kind, &b->path);
	b->msgs = s->msgs + *used;
	b->who = s->who + *used;
	for (size_t i = first; i < nsubs; i++) {
		delivery_of(r, &subs[i], &kind, &path);
		if (done[i] || !has_digest(&subs[i]) || kind != b->kind || !str_eq(path, b->path))
			continue;
		done[i] = 1;
		/* preview shows each digest once, not each recipient's copy */
		for (size_t j = 0; j < (r->mode.preview ? 1 : subs[i].nrcpt); j++)
			add_message(r, s, b, &subs[i].rcpts[j]);
	}
	*used += b->n;
}

/* Does sr's delivery take each message as it is written? */
static int
streams(const struct run *r, const struct sub_run *sr)
{
	enum deliver_kind kind;
	const char *path;

	delivery_of(r, sr, &kind, &path);
	return kind == DELIVER_SMTP || kind == DELIVER_SENDMAIL;
}

static int
plan_sending(struct run *r, struct sending *s, struct sub_run *subs, size_t nsubs, struct err *e)
{
	size_t total = 0, used = 0;
	char *done = calloc(nsubs + 1, 1);

	for (size_t i = 0; i < nsubs; i++)
		total += subs[i].nrcpt;
	s->msgs = calloc(total + 1, sizeof *s->msgs);
	s->who = calloc(total + 1, sizeof *s->who);
	s->batches = calloc(nsubs + 1, sizeof *s->batches);
	s->from = message_address(r->cfg.from);
	if (done == NULL || s->msgs == NULL || s->who == NULL || s->batches == NULL) {
		free(done);
		return err_oom(e);
	}
	if (s->from == NULL) {
		free(done);
		return err_set(e, EX_CONFIG, "from: not an address: %s", r->cfg.from);
	}
	/* SMTP and sendmail first: they take each digest as it is written, files wait for all */
	for (int files = 0; files < 2; files++)
		for (size_t i = 0; i < nsubs; i++)
			if (!done[i] && has_digest(&subs[i]) && streams(r, &subs[i]) != files)
				add_batch(r, s, subs, nsubs, i, done, &used);
	free(done);
	return 0;
}

/* The sending thread: each batch on its own, so a server that is down leaves the mbox ones. */
static void *
send_batches(void *arg)
{
	struct sending *s = arg;

	for (size_t i = 0; i < s->nbatches; i++) {
		struct batch *b = &s->batches[i];
		struct config cfg = *s->cfg;

		cfg.deliver = b->kind;
		cfg.deliver_path = (char *)b->path;
		b->rc = deliver(&cfg, b->msgs, b->n, s->log, &b->e);
	}
	return NULL;
}

/* The sender's own FILE on the digests' file: the writer's is busy. */
static int
digests_reader(struct run *r, struct err *e)
{
	int fd;

	if (r->digests_read != NULL)
		return 0;
	if ((fd = fcntl(fileno(r->digests), F_DUPFD_CLOEXEC, 0)) < 0 ||
	    (r->digests_read = fdopen(fd, "r")) == NULL) {
		err_set(e, EX_OSERR, "%s: cannot read the digests: %s", temp_dir(),
		        strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return 0;
}

/*
 * Plan the deliveries and start them: they wait for each digest as it is
 * written.  Without a thread, they are made once all are written.
 */
static int
sending_start(struct run *r, struct sending *s, struct sub_run *subs, size_t nsubs, struct err *e)
{
	*s = (struct sending){.cfg = &r->cfg,
	                      .log = r->cli->verbose && !r->cli->quiet ? stderr : NULL};
	if (outgate_init(&s->gate) != 0)
		return err_set(e, EX_OSERR, "cannot set up the sending: out of resources");
	s->gate_ok = 1;
	if (!any_digest(subs, nsubs))
		return 0;
	if (digests_file(r, e) < 0)
		return -1;
	if (digests_reader(r, e) < 0)
		return -1;
	if (plan_sending(r, s, subs, nsubs, e) < 0)
		return -1;
	s->threaded = pthread_create(&s->thread, NULL, send_batches, s) == 0;
	return 0;
}

/* Every digest is written, or none more will be: let the deliveries end. */
static void
sending_finish(struct sending *s)
{
	outgate_close(&s->gate);
	if (s->threaded)
		pthread_join(s->thread, NULL);
	else
		send_batches(s);
	s->threaded = 0;
}

/* What each delivery did; what was accepted is recorded even when a batch failed as a whole. */
static void
report_sending(struct run *r, const struct sending *s)
{
	if (r->journal_err.code != 0)
		fail(r, &r->journal_err);
	for (size_t i = 0; i < s->nbatches; i++) {
		const struct batch *b = &s->batches[i];

		if (b->rc < 0)
			fail(r, &b->e);
		for (size_t k = 0; k < b->n; k++)
			if (b->who[k]->message_len > 0 /* written */ &&
			    (b->rc == 0 || b->msgs[k].status == DELIVERY_ACCEPTED))
				report_delivery(r, b->who[k]->sr, b->who[k], &b->msgs[k]);
	}
}

static void
sending_free(struct sending *s)
{
	if (s->threaded)
		sending_finish(s);
	if (s->gate_ok)
		outgate_destroy(&s->gate);
	free(s->msgs);
	free(s->who);
	free(s->batches);
	free(s->from);
}

/* ---- record ---- */

/* The recipients of sr's subscription this run writes to: the configured ones, or --to. */
static size_t
recipients(const struct run *r, const struct sub_conf *sub, char *const **addrs,
           char *const **mailboxes)
{
	if (r->cli->to != NULL) {
		*addrs = (char *const *)&r->cli->to_addr;
		*mailboxes = (char *const *)&r->cli->to;
		return 1;
	}
	*addrs = sub->to_addr.v;
	*mailboxes = sub->to.v;
	return sub->to_addr.n;
}

static int
accepted_by(const struct sub_run *sr, const char *addr)
{
	for (size_t k = 0; k < sr->nrcpt; k++)
		if (sr->rcpts[k].status == DELIVERY_ACCEPTED &&
		    strcmp(sr->rcpts[k].addr, addr) == 0)
			return 1;
	return 0;
}

/* Has every recipient of the subscription this item, counting this run's acceptances? */
static int
everyone_has(const struct run *r, const struct sub_run *sr, const char *url, const char *id)
{
	char *const *addrs, *const *mailboxes;
	size_t n = recipients(r, sr->sub, &addrs, &mailboxes);

	for (size_t k = 0; k < n; k++)
		if (!accepted_by(sr, addrs[k]) &&
		    !state_delivered_to(r->st, sr->sub->name, addrs[k], url, id))
			return 0;
	return 1;
}

/*
 * An item is recorded for the subscription once every recipient has it,
 * else for each recipient that accepted it: the others get it next run.
 * Items the first run passes over are the subscription's at once.
 */
static int
record_picks(struct run *r, const struct sub_run *sr)
{
	size_t accepted = 0;

	for (size_t k = 0; k < sr->nrcpt; k++)
		accepted += sr->rcpts[k].status == DELIVERY_ACCEPTED;
	for (size_t i = 0; i < sr->picks.n; i++) {
		const struct pick *p = &sr->picks.v[i];
		const char *url = r->sources[p->source].conf->url, *id = p->item->id;

		if (p->kind == PICK_OLD || (accepted > 0 && everyone_has(r, sr, url, id))) {
			if (state_record(r->st, sr->sub->name, url, id, r->now) < 0)
				return -1;
			continue;
		}
		for (size_t k = 0; accepted > 0 && k < sr->nrcpt; k++)
			if (sr->rcpts[k].status == DELIVERY_ACCEPTED &&
			    state_record_to(r->st, sr->sub->name, sr->rcpts[k].addr, url, id,
			                    r->now) < 0)
				return -1;
	}
	return 0;
}

/*
 * deliver's hook: rr's message was accepted; its records are fsynced to
 * the journal before the next message goes out, so a crash repeats at
 * most the one in flight.  They are rr's own (the run's end records for
 * the subscription once every recipient has an item), and the first
 * run's passed-over items, which are the subscription's.  If they cannot
 * be written, nothing more is sent.
 */
static int
journal_message(struct outmsg *m, void *arg)
{
	struct rcpt_run *rr = arg;
	const struct sub_run *sr = rr->sr;
	struct run *r = sr->run;
	struct err e = {0};
	int rc = 0;

	(void)m;
	for (size_t i = 0; rc == 0 && i < sr->picks.n; i++) {
		const struct pick *p = &sr->picks.v[i];

		rc = journal_add(r->journal, sr->sub->name, p->kind == PICK_OLD ? NULL : rr->addr,
		                 r->sources[p->source].conf->url, p->item->id, r->now);
	}
	if (rc < 0)
		err_oom(&e);
	if (e.code != 0 || journal_commit(r->journal, &e) < 0) {
		if (r->journal_err.code == 0)
			r->journal_err = e; /* told once the sending thread is joined */
		return -1;
	}
	return 0;
}

/* What the journal and the new state may need, generously (escapes can triple a field). */
static size_t
room_for_records(const struct run *r, const struct sub_run *subs, size_t nsubs)
{
	size_t room = 4096;

	for (size_t i = 0; i < nsubs; i++)
		for (size_t k = 0; has_digest(&subs[i]) && k < subs[i].picks.n; k++) {
			const struct pick *p = &subs[i].picks.v[k];

			/* a journal record per recipient, a state record per item */
			room += (subs[i].nrcpt + 1) *
			        (3 * (strlen(subs[i].sub->name) + strlen(p->item->id) +
			              strlen(r->sources[p->source].conf->url) + 320) +
			         64);
		}
	return room;
}

/* Before anything is sent: the state can be written, and the journal is open. */
static int
prepare_recording(struct run *r, const struct sub_run *subs, size_t nsubs, struct err *e)
{
	if (!any_digest(subs, nsubs))
		return 0; /* nothing to send */
	/* The check's own temp file, or a save's, left by a crash: we hold the lock. */
	if (state_remove_temps(r->cfg.state_path, e) < 0 ||
	    journal_preflight(r->cfg.state_path, room_for_records(r, subs, nsubs), e) < 0)
		return err_prefix(e, "the state cannot be saved, nothing was sent");
	return journal_open(r->cfg.state_path, &r->journal, e);
}

/* Its first run is over once any of its feeds was read. */
static int
touch_if_read(struct run *r, const struct sub_conf *sub)
{
	for (size_t f = 0; f < r->cfg.nfeeds; f++)
		if (r->feeds[f].src->feed != NULL &&
		    select_sub_reads_feed(sub, r->feeds[f].src->conf))
			return state_sub_touch(r->st, sub->name);
	return 0;
}

/* Items this run saw but did not deliver: refused, or held back by max-items. */
static int
items_pending(const struct sub_run *sr)
{
	for (size_t k = 0; k < sr->nrcpt; k++)
		if (sr->shows && sr->rcpts[k].status != DELIVERY_ACCEPTED)
			return 1;
	return sr->picks.held_back > 0;
}

/*
 * New validators would turn the next fetch into a 304, and a new fetch time
 * would let the interval skip the feed: store them only once no
 * subscription reading the feed still has its items pending.
 */
static void
commit_feed_records(struct run *r, const struct sub_run *subs, size_t nsubs)
{
	for (size_t f = 0; f < r->cfg.nfeeds; f++) {
		struct feed_run *fr = &r->feeds[f];
		struct feed_state *fs = state_feed(r->st, fr->src->conf->url, 0);
		int safe = 1;

		if (fs == NULL || fr->src->feed == NULL)
			continue;
		for (size_t i = 0; safe && i < nsubs; i++)
			if (items_pending(&subs[i]) &&
			    select_sub_reads_feed(subs[i].sub, fr->src->conf))
				safe = 0;
		/* -S: the subscriptions left out have not seen its items either. */
		for (size_t s = 0; safe && s < r->cfg.nsubs; s++)
			if (!r->sub_selected[s] &&
			    select_sub_reads_feed(&r->cfg.subs[s], fr->src->conf))
				safe = 0;
		if (!safe) {
			fs->last_fetch = fr->prev_last_fetch;
			continue;
		}
		free(fs->etag);
		free(fs->last_modified);
		fs->etag = fr->new_etag;
		fs->last_modified = fr->new_last_modified;
		fr->new_etag = fr->new_last_modified = NULL;
	}
}

/*
 * A subscription's picks are recorded: free them (thousands of
 * subscriptions' picks are megabytes) before the state grows and is saved.
 * What is held back is still counted (items_pending).
 */
static void
drop_recorded_picks(struct sub_run *sr)
{
	size_t held_back = sr->picks.held_back;

	picks_free(&sr->picks);
	sr->picks.held_back = held_back;
}

/*
 * A run that changed only its feeds' fetch records (every feed answered
 * 304) appends them to the journal: rewriting a state of a million ids
 * and fsyncing it would be most of such a run.  Otherwise the state is
 * saved whole, if it changed, and the journal, all in it now, removed.
 */
static int
save_state(struct run *r, struct err *e)
{
	const char *path = r->cfg.state_path;
	int journaled = 0;

	journal_close(r->journal); /* every group in it is committed */
	r->journal = NULL;
	/* A journal that cannot take them: the whole save may still work. */
	if (state_feeds_only_changed(r->st, path) &&
	    (journaled = journal_save_feeds(path, r->st, e)) < 0)
		journaled = 0;
	if (journaled || !state_needs_save(r->st, path))
		return 0; /* the file and the journal hold everything */
	if (state_save(r->st, path, e) < 0)
		return -1; /* the journal stays: the next load replays it */
	return journal_remove(path, e);
}

static int
record(struct run *r, struct sub_run *subs, size_t nsubs, struct err *e)
{
	for (size_t i = 0; i < nsubs; i++) {
		if (record_picks(r, &subs[i]) < 0 || touch_if_read(r, subs[i].sub) < 0)
			return err_oom(e);
		drop_recorded_picks(&subs[i]);
		/* The state's tables grow as this goes: give them the picks' pages. */
		if (i % 256 == 255)
			spool_trim();
	}
	spool_trim();
	commit_feed_records(r, subs, nsubs);
	if (note_present_items(r, e) < 0)
		return -1;
	return save_state(r, e);
}

/* ---- the pipeline ---- */

/*
 * preview shows one digest as a message (.eml) when one subscription is
 * asked for, or only one exists, or --html wants one HTML part; else
 * every subscription's, as an mbox.
 */
static int
preview_one(const struct run *r)
{
	size_t n = 0;

	if (!r->mode.preview)
		return 0;
	for (size_t s = 0; s < r->cfg.nsubs; s++)
		n += r->sub_selected[s] != 0;
	return n <= 1 || r->cli->html_out != NULL;
}

static int
same_picks(const struct picks *a, const struct picks *b)
{
	if (a->n != b->n || a->held_back != b->held_back)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].item != b->v[i].item || a->v[i].kind != b->v[i].kind ||
		    a->v[i].source != b->v[i].source)
			return 0;
	return 1;
}

/*
 * Group sub's recipients by what they lack: one group, with one digest,
 * unless an earlier run reached only some of them.  The groups go to
 * subs[*n...], each with its picks and its run of slots.
 */
static int
group_recipients(struct run *r, const struct sub_conf *sub, struct sub_run *subs, size_t *n,
                 struct rcpt_run *slots, struct err *e)
{
	char *const *addrs, *const *mailboxes;
	size_t nr = recipients(r, sub, &addrs, &mailboxes), first = *n, at = 0;
	size_t *group = calloc(nr + 1, sizeof *group);
	/* Only a run tells recipients apart, and only once some have records of their own. */
	int apart = r->mode.select == SELECT_NEW && state_sub_split(r->st, sub->name);

	if (group == NULL)
		return err_oom(e);
	for (size_t k = 0; k < nr; k++) {
		struct select_params p = {r->mode.select, r->now, r->cli->since,
		                          apart ? addrs[k] : NULL};
		struct picks picks = {0};
		size_t g = k > 0 && p.rcpt == NULL ? first : *n;

		if (g == *n &&
		    select_items(sub, r->sources, r->cfg.nfeeds, r->st, &p, &picks, e) < 0) {
			picks_free(&picks);
			free(group);
			return -1;
		}
		for (size_t i = first; g == *n && i < *n; i++)
			if (same_picks(&subs[i].picks, &picks))
				g = i;
		if (g == *n) {
			subs[(*n)++] = (struct sub_run){
			    .run = r,
			    .sub = sub,
			    .picks = picks,
			    .shows = picks.nshow > 0 && r->mode.select != SELECT_ALL,
			};
		} else {
			picks_free(&picks);
		}
		group[k] = g;
		subs[g].nrcpt++;
	}
	for (size_t g = first; g < *n; g++) {
		subs[g].rcpts = slots + at;
		at += subs[g].nrcpt;
		subs[g].nrcpt = 0;
	}
	for (size_t k = 0; k < nr; k++) {
		struct sub_run *sr = &subs[group[k]];

		sr->rcpts[sr->nrcpt++] =
		    (struct rcpt_run){.mailbox = mailboxes[k], .addr = addrs[k], .sr = sr};
	}
	free(group);
	return 0;
}

/* Each subscription's picks, grouped by recipients; no digest is written yet. */
static int
select_digests(struct run *r, struct sub_run **out, size_t *nout, struct err *e)
{
	size_t total = 0, n = 0;
	struct sub_run *subs;
	struct rcpt_run *slots;
	char *const *addrs, *const *mailboxes;

	for (size_t s = 0; s < r->cfg.nsubs; s++)
		if (r->sub_selected[s])
			total += recipients(r, &r->cfg.subs[s], &addrs, &mailboxes);
	*out = subs = calloc(total + 1, sizeof *subs);
	*nout = 0;
	/* Every recipient's slot, in one array: the groups point into it. */
	r->rcpt_slots = slots = calloc(total + 1, sizeof *slots);
	if (subs == NULL || slots == NULL)
		return err_oom(e);
	for (size_t s = 0; s < r->cfg.nsubs; s++) {
		size_t first = n;

		if (!r->sub_selected[s])
			continue;
		if (group_recipients(r, &r->cfg.subs[s], subs, &n, slots, e) < 0) {
			*nout = n;
			return -1;
		}
		*nout = n;
		slots += recipients(r, &r->cfg.subs[s], &addrs, &mailboxes);
		if (n > first)
			report_first_run(r, &subs[first]);
	}
	return 0;
}

/*
 * A subscription whose digest cannot be made (its template, its headers)
 * is told and passed over: the others' digests still go.  Any other
 * failure ends the writing; what was written still goes.
 */
static int
write_digests(struct run *r, struct sub_run *subs, size_t nsubs, struct err *e)
{
	for (size_t i = 0; i < nsubs; i++) {
		if (build_digest(r, &subs[i], e) == 0)
			continue;
		if (e->code != EX_DATAERR && e->code != EX_CONFIG)
			return -1;
		fail(r, e);
		*e = (struct err){0};
		for (size_t k = 0; k < subs[i].nrcpt; k++) {
			struct rcpt_run *rr = &subs[i].rcpts[k];

			if (rr->out != NULL && rr->message_len == 0)
				outgate_publish(rr->out->gate, rr->out, 0, 0);
		}
	}
	return 0;
}

/* preview of one digest: the first subscription that has one. */
static int
preview_digest(struct run *r, struct sub_run *subs, size_t nsubs, struct err *e)
{
	for (size_t i = 0; i < nsubs; i++) {
		if (build_digest(r, &subs[i], e) < 0)
			return -1;
		if (has_digest(&subs[i]))
			return write_preview(r, &subs[i], e);
	}
	return 0;
}

static void
free_subs(struct run *r, struct sub_run *subs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		picks_free(&subs[i].picks);
		if (subs[i].html != NULL)
			fclose(subs[i].html);
	}
	free(subs);
	free(r->rcpt_slots);
	r->rcpt_slots = NULL;
}

/* The digests are written: recording needs no more of an item than its id. */
static void
keep_what_recording_needs(struct run *r)
{
	spool_free(r->spool);
	r->spool = NULL;
	for (size_t f = 0; f < r->cfg.nfeeds; f++)
		if (r->feeds[f].src->feed != NULL)
			spool_keep_for_recording(&r->feeds[f].parsed);
	spool_trim();
}

/*
 * Write the digests while they are delivered, then record what was
 * accepted: also when writing failed part way (that error is returned).
 */
static int
send_digests(struct run *r, struct sub_run *subs, size_t nsubs, struct err *e)
{
	struct sending s = {0};
	struct err re = {0};
	int rc = 0;

	if (r->mode.record && prepare_recording(r, subs, nsubs, e) < 0)
		return -1; /* a state that cannot be saved would send these digests on every run */
	if (sending_start(r, &s, subs, nsubs, e) < 0) {
		sending_free(&s);
		return -1;
	}
	rc = write_digests(r, subs, nsubs, e);
	sending_finish(&s);
	keep_what_recording_needs(r);
	report_sending(r, &s);
	sending_free(&s);
	if (r->mode.record && record(r, subs, nsubs, &re) < 0) {
		if (rc < 0)
			fail(r, &re); /* the first error is returned */
		else
			*e = re;
		rc = -1;
	}
	return rc;
}

static int
any_feed_read(const struct run *r)
{
	for (size_t f = 0; f < r->cfg.nfeeds; f++)
		if (r->feeds[f].src->feed != NULL)
			return 1;
	return 0;
}

static int
pipeline(struct run *r, struct err *e)
{
	struct sub_run *subs = NULL;
	size_t nsubs = 0;
	int rc;

	if (fetch_feeds(r, e) < 0)
		return -1;
	if (r->items_err.code != 0) {
		*e = r->items_err;
		return -1;
	}
	if (fetch_history(r, e) < 0)
		return -1;
	/* No feed read: no item to select, and the state's items stay unread. */
	rc = any_feed_read(r) ? select_digests(r, &subs, &nsubs, e) : 0;
	if (rc == 0 && r->mode.preview && !any_digest(subs, nsubs)) {
		if (!r->cli->quiet)
			complain("nothing new to preview");
	} else if (rc == 0 && preview_one(r))
		rc = preview_digest(r, subs, nsubs, e);
	else if (rc == 0)
		rc = send_digests(r, subs, nsubs, e);
	free_subs(r, subs, nsubs);
	return rc;
}

static void
teardown(struct run *r)
{
	for (size_t f = 0; r->feeds && f < r->cfg.nfeeds; f++) {
		if (r->sources != NULL && r->sources[f].feed != NULL)
			feed_free(&r->feeds[f].parsed);
		free(r->feeds[f].sent_etag);
		free(r->feeds[f].sent_last_modified);
		free(r->feeds[f].new_etag);
		free(r->feeds[f].new_last_modified);
	}
	free(r->feeds);
	free(r->sources);
	free(r->sub_selected);
	digest_templates_free(r->tpl);
	spool_free(r->spool);
	if (r->digests_read != NULL)
		fclose(r->digests_read);
	if (r->digests != NULL)
		fclose(r->digests);
	journal_close(r->journal);
	state_free(r->st);
	if (r->lock)
		state_unlock(r->lock);
	if (r->have_cfg)
		config_free(&r->cfg);
}

static int
execute(const struct cli *c, struct mode mode)
{
	struct run r = {.cli = c, .mode = mode};
	struct err e = {0};

	pthread_mutex_init(&r.guard, NULL);
	if (setup(&r, &e) < 0 || pipeline(&r, &e) < 0)
		fail(&r, &e);
	teardown(&r);
	pthread_mutex_destroy(&r.guard);
	return r.status;
}

int
cmd_run(const struct cli *c)
{
	struct mode m = {
	    .select = SELECT_NEW,
	    .conditional = 1,
	    .deliver = 1,
	    .record = 1,
	    .lock = 1,
	};

	if (c->have_since) /* a read-only replay: full fetch, no state change */
		m = (struct mode){.select = SELECT_SINCE, .deliver = 1};
	if (c->dry_run)
		m.deliver = m.record = 0;
	return execute(c, m);
}

int
cmd_preview(const struct cli *c)
{
	return execute(c, (struct mode){
	                      .select = c->have_since ? SELECT_SINCE : SELECT_NEW,
	                      .preview = 1,
	                  });
}

int
cmd_catch_up(const struct cli *c)
{
	return execute(c, (struct mode){
	                      .select = SELECT_ALL,
	                      .record = !c->dry_run,
	                      .lock = 1,
	                  });
}

/* ---- commands that read without running ---- */

static int
load_config(const struct cli *c, struct config *cfg)
{
	struct err e = {0};

	if (config_open(c->config_path, cfg, stderr, &e) == 0)
		return EX_OK;
	if (e.msg[0])
		complain("%s", e.msg);
	return e.code ? e.code : EX_CONFIG;
}

int
cmd_check(const struct cli *c)
{
	struct config cfg;
	struct digest_templates *t = NULL;
	struct err e = {0};
	int rc = load_config(c, &cfg);

	if (rc != EX_OK)
		return rc;
	if (digest_templates_load(&cfg, &t, &e) < 0) {
		complain("%s", e.msg);
		rc = EX_CONFIG;
	} else if (journal_preflight(cfg.state_path, 0, &e) < 0) {
		/* Every run would fail to save it (and send nothing). */
		complain("%s: the state cannot be saved: %s", cfg.path, e.msg);
		rc = e.code;
	} else if (!c->quiet) {
		config_summary(&cfg, stdout);
	}
	digest_templates_free(t);
	config_free(&cfg);
	return rc;
}

static void
format_when(time_t t, char *buf, size_t size)
{
	if (t == 0 || date_format_local(t, buf, size) < 0)
		snprintf(buf, size, "never");
}

/* One row of `tidings feeds`, its columns as text. */
struct feed_row {
	const char *name;
	char last[32];
	char status[80];
	char items[24];
	char failures[16];
	char since[32];
	const char *url;
};

enum { FEED_COLUMNS = 7 };

static const char *const feed_headings[FEED_COLUMNS] = {
    "FEED", "LAST FETCH", "STATUS", "ITEMS", "FAILURES", "FAILING SINCE", "URL"};

static void
feed_row_columns(const struct feed_row *row, const char *col[FEED_COLUMNS])
{
	col[0] = row->name;
	col[1] = row->last;
	col[2] = row->status;
	col[3] = row->items;
	col[4] = row->failures;
	col[5] = row->since;
	col[6] = row->url;
}

static void
fill_feed_row(struct feed_row *row, const struct feed_conf *fc, const struct feed_state *fs,
              size_t nids)
{
	char *status = row->status;
	size_t sz = sizeof row->status;

	row->name = fc->name;
	row->url = fc->url;
	snprintf(row->items, sizeof row->items, "%zu", nids);
	snprintf(row->failures, sizeof row->failures, "%d", fs ? fs->failures : 0);
	format_when(fs ? fs->last_fetch : 0, row->last, sizeof row->last);
	format_when(fs && fs->failures ? fs->first_failure : 0, row->since, sizeof row->since);
	if (!(fs && fs->failures))
		snprintf(row->since, sizeof row->since, "-");
	if (!fc->active)
		snprintf(status, sz, "paused");
	else if (fs == NULL)
		snprintf(status, sz, "-");
	else if (fs->gone)
		snprintf(status, sz, "gone (410)");
	else if (fs->last_error)
		snprintf(status, sz, "%.60s", fs->last_error);
	else if (fs->moved_to)
		snprintf(status, sz, "moved: %.50s", fs->moved_to);
	else if (fs->last_status == 0)
		snprintf(status, sz, fs->last_fetch ? "ok" : "-"); /* file: URLs */
	else
		snprintf(status, sz, "%ld", fs->last_status);
	str_strip_controls(status); /* a stored error quotes a server */
}

/* Each column as wide as its widest cell: a long status must not push the rest. */
static void
print_feed_table(const struct feed_row *rows, size_t n)
{
	static const int right[FEED_COLUMNS] = {0, 0, 0, 1, 1, 0, 0};
	int width[FEED_COLUMNS];
	const char *col[FEED_COLUMNS];

	for (int k = 0; k < FEED_COLUMNS; k++)
		width[k] = (int)strlen(feed_headings[k]);
	for (size_t i = 0; i < n; i++) {
		feed_row_columns(&rows[i], col);
		for (int k = 0; k < FEED_COLUMNS; k++)
			if ((int)strlen(col[k]) > width[k])
				width[k] = (int)strlen(col[k]);
	}
	for (size_t i = 0; i <= n; i++) {
		if (i == 0)
			memcpy(col, feed_headings, sizeof col);
		else
			feed_row_columns(&rows[i - 1], col);
		for (int k = 0; k < FEED_COLUMNS - 1; k++)
			printf(right[k] ? "%*s  " : "%-*s  ", width[k], col[k]);
		printf("%s\n", col[FEED_COLUMNS - 1]);
	}
}

int
cmd_feeds(const struct cli *c)
{
	struct config cfg;
	struct state *st = NULL;
	struct feed_row *rows;
	struct err e = {0};
	int rc = load_config(c, &cfg);

	if (rc != EX_OK)
		return rc;
	if (state_load(cfg.state_path, &st, &e) < 0 || journal_replay(cfg.state_path, st, &e) < 0) {
		complain("%s", e.msg);
		state_free(st);
		config_free(&cfg);
		return e.code;
	}
	if ((rows = calloc(cfg.nfeeds + 1, sizeof *rows)) == NULL) {
		complain("out of memory");
		state_free(st);
		config_free(&cfg);
		return EX_OSERR;
	}
	for (size_t f = 0; f < cfg.nfeeds; f++)
		fill_feed_row(&rows[f], &cfg.feeds[f], state_feed(st, cfg.feeds[f].url, 0),
		              state_feed_nids(st, cfg.feeds[f].url));
	print_feed_table(rows, cfg.nfeeds);
	free(rows);
	state_free(st);
	config_free(&cfg);
	return EX_OK;
}
