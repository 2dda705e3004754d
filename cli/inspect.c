/*
 * cli/inspect.c - `moat inspect [-f FORMAT] [--type container|image] [-s]
 * NAME|ID...` and `moat container inspect`: Docker's JSON array of
 * objects (4-space indent), or FORMAT rendered once per object.
 *
 * Runs as: the invoking user or root. Reads container records under ROOT
 * and the image store of the caller's identity; changes nothing, except
 * that resolving an image extracts its layers for that identity if no
 * `run` did yet (image_store_resolve).
 *
 * Like Docker it goes on past a name it cannot find: the objects found are
 * printed ("[]" when none), then one "No such object: X" line per missing
 * one, and the exit status is 1. A container wins over an image of the
 * same name unless --type says otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "engine/containers.h"
#include "engine/engine.h"
#include "engine/format.h"
#include "engine/inspect.h"
#include "engine/netrun.h"
#include "image/image.h"

enum kind {
	KIND_ANY,
	KIND_CONTAINER,
	KIND_IMAGE,
};

struct inspector {
	struct cli_ctx *ctx;
	bool size;
	struct image_store *store; /* opened on first use */
	struct image **images;	   /* for -s: image sizes */
	size_t nimages;
	bool listed;
};

static void inspector_clear(struct inspector *in)
{
	for (size_t i = 0; i < in->nimages; i++)
		image_free(in->images[i]);
	free(in->images);
	image_store_close(in->store);
}

static int open_store(struct inspector *in, struct err **err)
{
	if (in->store)
		return 0;
	return engine_store_open(in->ctx->root, in->ctx->rootless, in->ctx->uid, in->ctx->gid, NULL,
				 &in->store, err);
}

/* Container REF as JSON; -ENOENT (err unset) when there is none. */
static int inspect_container(struct inspector *in, const char *ref, json_t **out, struct err **err)
{
	struct container_record rec;
	struct inspect_env env = {
	    .root = in->ctx->root,
	    .runroot = in->ctx->runroot,
	    .size_rw = -1,
	    .size_rootfs = -1,
	};
	char id[SHA256_HEX_LEN + 1];
	int r;

	if ((r = engine_container_resolve(in->ctx->root, ref, id, err)) < 0) {
		if (r == -ENOENT)
			err_free(err);
		return r;
	}
	if ((r = engine_container_load(in->ctx->root, id, &rec, err)) < 0) {
		/* removed between the two: as good as never there */
		if (r == -ENOENT)
			err_free(err);
		return r;
	}
	if (in->size) {
		if (!in->listed) {
			struct err *e = NULL;

			in->listed = true;
			if (open_store(in, &e) < 0 ||
			    image_store_list(in->store, &in->images, &in->nimages, &e) < 0)
				err_free(&e); /* sizes without the image's part */
		}
		engine_inspect_sizes(in->ctx->root, &rec, in->images, in->nimages, &env.size_rw,
				     &env.size_rootfs);
	}
	{
		struct engine_net_state net = {0};
		struct err *ne = NULL;
		char rdir[4200];

		snprintf(rdir, sizeof(rdir), "%s/containers/%s", in->ctx->runroot, id);
		if (engine_netrun_state(rdir, &net, &ne) == 0)
			env.net = &net;
		err_free(&ne);
		r = engine_inspect_container(&rec, engine_container_state(in->ctx->runroot, &rec),
					     &env, out, err);
		engine_net_state_free(&net);
	}
	engine_container_record_free(&rec);
	return r;
}

/* Image REF as JSON; -ENOENT (err unset) when there is none. */
static int inspect_image(struct inspector *in, const char *ref, json_t **out, struct err **err)
{
	struct image *img = NULL;
	int r;

	if ((r = open_store(in, err)) < 0)
		return r;
	if ((r = image_store_resolve(in->store, ref, &img, err)) < 0) {
		if (r == -ENOENT)
			err_free(err);
		return r;
	}
	r = engine_inspect_image(img, out, err);
	image_free(img);
	return r;
}

int cli_inspect_run(struct cli_ctx *ctx, int argc, char **argv, bool container_only)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"type", required_argument, NULL, 't'},
	    {"size", no_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct inspector in = {.ctx = ctx};
	_cleanup_json_ json_t *all = json_array();
	_cleanup_free_ char **missing = calloc((size_t)argc + 1, sizeof(char *));
	struct fmt_template *t = NULL;
	struct err *err = NULL;
	enum kind kind = container_only ? KIND_CONTAINER : KIND_ANY;
	const char *format = NULL;
	size_t nmissing = 0, i;
	int c, r = 0, status = 0;

	if (!all || !missing) {
		err_errno(&err, ENOMEM, "inspect");
		return cli_fail(&err);
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:s", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 't':
			if (container_only) {
				err_set(&err, EINVAL, "unknown flag: --type");
				return cli_fail(&err);
			}
			if (!strcmp(optarg, "container"))
				kind = KIND_CONTAINER;
			else if (!strcmp(optarg, "image"))
				kind = KIND_IMAGE;
			else if (!*optarg)
				kind = KIND_ANY;
			else {
				err_set(
				    &err, EINVAL,
				    "\"%s\" is not a valid value for --type (container or image)",
				    optarg);
				return cli_fail(&err);
			}
			break;
		case 's':
			in.size = true;
			break;
		case 'h':
			printf("Usage: moat %sinspect [OPTIONS] NAME|ID [NAME|ID...]\n\n"
			       "Return low-level information on containers and images\n\nOptions:\n"
			       "  -f, --format string   Format output using a custom template\n"
			       "  -s, --size            Display total file sizes if the type is "
			       "container\n"
			       "%s",
			       container_only ? "container " : "",
			       container_only
				   ? ""
				   : "      --type string     Return JSON for specified type "
				     "(container or image)\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (optind >= argc) {
		err_set(&err, EINVAL, "\"%sinspect\" requires at least 1 argument",
			container_only ? "container " : "");
		return cli_fail(&err);
	}
	if (cli_inspect_template(format, &t, &err) < 0)
		return cli_fail(&err);
	for (i = (size_t)optind; i < (size_t)argc; i++) {
		const char *ref = argv[i];
		json_t *obj = NULL;

		r = -ENOENT;
		if (kind != KIND_IMAGE)
			r = inspect_container(&in, ref, &obj, &err);
		if (r == -ENOENT && kind != KIND_CONTAINER)
			r = inspect_image(&in, ref, &obj, &err);
		if (r == -ENOENT && !err) {
			missing[nmissing++] = argv[i];
			continue;
		}
		if (r < 0) {
			/* an ambiguous prefix, an unreadable record or store */
			fprintf(stderr, "moat: %s\n", err ? err->msg : "inspect failed");
			err_free(&err);
			status = 1;
			continue;
		}
		if (json_array_append_new(all, obj) < 0) {
			err_errno(&err, ENOMEM, "inspect");
			r = cli_fail(&err);
			goto out;
		}
	}
	if (cli_inspect_print(t, all, "inspect", &err) < 0) {
		r = cli_fail(&err);
		goto out;
	}
	for (i = 0; i < nmissing; i++)
		fprintf(stderr, "moat: No such %s: %s\n",
			kind == KIND_CONTAINER ? "container"
			: kind == KIND_IMAGE   ? "image"
					       : "object",
			missing[i]);
	r = nmissing || status ? 1 : 0;
out:
	fmt_template_free(t);
	inspector_clear(&in);
	return r;
}

int cmd_inspect(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_inspect_run(ctx, argc, argv, false);
}
