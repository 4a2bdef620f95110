// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <libelf.h>

#include "process/elfsyms.h"
#include "process/procfs.h"
#include "process/unwind.h"
#include "util/utf8.h"

/* libdwfl asks for a thread by id: the one whose registers were handed in */
#define UNWIND_TID 1
#define LINE_MAX_LEN 4352    /* a maps line: PATH_MAX of path and the numbers before it */
#define READ_MAX (64u << 20) /* /proc/PID/maps read at most (anonymous lines are most of it) */

/* One kept line of the maps. */
struct umap {
	uint64_t start, end, offset;
	uint32_t path;	/* offset in paths of the path as the process named it */
	uint32_t group; /* the file's mapping it belongs to, 1..; 0: not given to libdwfl */
};

/* What libdwfl works with, built at the first unwind. */
struct unwind_session {
	Dwfl *dwfl;
	Elf *arch; /* a bare x86_64 ELF header: libdwfl's unwinder needs no file to know the arch */
	Elf64_Ehdr ehdr;
	bool attached;
	size_t bytes; /* malloc'd while building and using it, as mallinfo2() saw it */
	/* the unwind in progress */
	const uint64_t *regs;
	uint64_t stack_addr;
	const uint8_t *stack;
	size_t len;
};

struct unwind_maps {
	struct umap *map;
	size_t nmap;
	char *paths; /* NUL-terminated paths, one after the other */
	size_t paths_len;
	char *root; /* "" for none */
	size_t root_len;
	char *text; /* the lines given to libdwfl, in /proc/PID/maps format, root applied */
	size_t text_len;
	struct unwind_session *s;
	bool s_failed;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

struct unwind_maps *unwind_maps_parse(const char *text, size_t len, const char *root)
{
	size_t map_cap = 0, paths_cap = 0, text_cap = 0, pos = 0, kept = 0;
	struct unwind_maps *m = calloc(1, sizeof(*m));
	char *line = malloc(LINE_MAX_LEN + 1);
	uint64_t prev_end = 0;
	uint32_t group = 0;

	if (!m || !line)
		goto nomem;
	m->root = strdup(root ? root : "");
	if (!m->root)
		goto nomem;
	m->root_len = strlen(m->root);
	while (text && pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = (nl ? (size_t)(nl - text) : len) - pos, plen, tlen;
		struct maps_entry e;
		struct umap *u;
		bool file, same;

		if (n > LINE_MAX_LEN) {
			pos += n + 1;
			continue;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + 1;
		if (maps_parse_line(line, &e) || e.start >= e.end || e.start < prev_end)
			continue;
		file = e.path[0] == '/';
		if (!file && strcmp(e.path, "[vdso]"))
			continue;
		plen = strlen(e.path) + 1;
		if (kept + plen + 2 * (m->root_len + plen + 64) > UNWIND_MAPS_MAX)
			break;
		if (grow((void **)&m->map, &map_cap, m->nmap + 1, sizeof(*m->map)) ||
		    grow((void **)&m->paths, &paths_cap, m->paths_len + plen, 1))
			goto nomem;
		prev_end = e.end;
		/* a file mapped piece by piece is one module; a deleted file's path now names
		 * another file, or none: it is not opened */
		same = m->nmap && m->map[m->nmap - 1].group &&
		       !strcmp(m->paths + m->map[m->nmap - 1].path, e.path);
		u = &m->map[m->nmap++];
		u->start = e.start;
		u->end = e.end;
		u->offset = e.offset;
		u->path = (uint32_t)m->paths_len;
		u->group = file && !e.deleted ? (same ? group : ++group) : 0;
		memcpy(m->paths + m->paths_len, e.path, plen);
		m->paths_len += plen;
		kept += plen + sizeof(*u);
		if (!u->group)
			continue;
		/* libdwfl groups lines by device and inode: each module its own */
		if (grow((void **)&m->text, &text_cap, m->text_len + m->root_len + plen + 80, 1))
			goto nomem;
		tlen = (size_t)sprintf(m->text + m->text_len, "%lx-%lx r-xp %08lx 00:01 %u %s%s\n",
				       (unsigned long)u->start, (unsigned long)u->end,
				       (unsigned long)u->offset, u->group, m->root, e.path);
		m->text_len += tlen;
		kept += tlen;
	}
	free(line);
	return m;
nomem:
	free(line);
	unwind_maps_free(m);
	errno = ENOMEM;
	return NULL;
}

/* The prefix under which pid's paths are found: "" when it shares our root. */
static void pid_root(uint32_t pid, char *buf, size_t len)
{
	struct stat ours, theirs;

	snprintf(buf, len, "/proc/%u/root", pid);
	if (stat("/", &ours) || stat(buf, &theirs) ||
	    (ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino))
		buf[0] = '\0';
}

struct unwind_maps *unwind_maps_read(uint32_t pid)
{
	size_t cap = 64 << 10, len = 0;
	struct unwind_maps *m = NULL;
	char path[64], root[64];
	char *buf = NULL;
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	if (!buf) {
		err = ENOMEM;
		goto out;
	}
	for (;;) {
		if (len == cap) {
			char *p;

			if (cap >= READ_MAX)
				break;
			p = realloc(buf, cap * 2);
			if (!p) {
				err = ENOMEM;
				goto out;
			}
			buf = p;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	/* a process gone between open and read leaves nothing to read */
	if (!len) {
		err = ESRCH;
		goto out;
	}
	pid_root(pid, root, sizeof(root));
	m = unwind_maps_parse(buf, len, root);
	if (!m)
		err = errno;
out:
	free(buf);
	close(fd);
	if (err)
		errno = err;
	return m;
}

static void session_free(struct unwind_session *s)
{
	if (!s)
		return;
	dwfl_end(s->dwfl); /* closes the backend that holds arch */
	if (s->arch)
		elf_end(s->arch);
	free(s);
}

void unwind_maps_free(struct unwind_maps *m)
{
	if (!m)
		return;
	session_free(m->s);
	free(m->map);
	free(m->paths);
	free(m->root);
	free(m->text);
	free(m);
}

bool unwind_maps_drop_session(struct unwind_maps *m)
{
	if (!m || !m->s)
		return false;
	session_free(m->s);
	m->s = NULL;
	m->s_failed = false;
	return true;
}

size_t unwind_maps_bytes(const struct unwind_maps *m)
{
	if (!m)
		return 0;
	return sizeof(*m) + m->nmap * sizeof(*m->map) + m->paths_len + m->root_len + 1 +
	       m->text_len + (m->s ? sizeof(*m->s) + m->s->bytes : 0);
}

static size_t heap_used(void)
{
	return mallinfo2().uordblks;
}

static void account(struct unwind_session *s, size_t before)
{
	size_t now = heap_used();

	if (now > before)
		s->bytes += now - before;
}

/* Dwfl_Callbacks.find_elf: the file at the path the maps name, if a regular file. Not
 * dwfl_linux_proc_find_elf, which reads /proc/PID/mem for (deleted) files: that process may be
 * gone, or another by now. */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	struct stat st;
	int fd;

	(void)mod;
	(void)userdata;
	(void)base;
	(void)elfp;
	/* maps name device files too (a GPU's, under /dev): opening one may do things */
	if (name[0] != '/' || stat(name, &st) || !S_ISREG(st.st_mode))
		return -1;
	/* O_NONBLOCK: should a FIFO be there by now, the open does not block */
	fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || !(*file_name = strdup(name))) {
		close(fd);
		return -1;
	}
	return fd;
}

static char *debuginfo_path;

static const Dwfl_Callbacks dwfl_callbacks = {
	.find_elf = find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	(void)dwfl;
	if (*thread_argp)
		return 0;
	*thread_argp = arg;
	return UNWIND_TID;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	(void)dwfl;
	*thread_argp = arg;
	return tid == UNWIND_TID;
}

/* Reads of the stack copy only: never the live process. */
static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	const struct unwind_session *s = arg;
	uint64_t off = addr - s->stack_addr;

	(void)dwfl;
	if (!s->stack || addr < s->stack_addr || off >= s->len || s->len - off < sizeof(*result))
		return false;
	memcpy(result, s->stack + off, sizeof(*result));
	return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	const struct unwind_session *s = arg;

	return dwfl_thread_state_registers(thread, 0, UNWIND_NREGS, s->regs);
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

static struct unwind_session *session(struct unwind_maps *m)
{
	size_t before = heap_used();
	struct unwind_session *s;
	FILE *f;

	if (m->s || m->s_failed)
		return m->s;
	m->s_failed = true;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (!elfsyms_init())
		goto fail;
	s->dwfl = dwfl_begin(&dwfl_callbacks);
	if (!s->dwfl)
		goto fail;
	dwfl_report_begin(s->dwfl);
	if (m->text_len) {
		f = fmemopen(m->text, m->text_len, "r");
		if (!f)
			goto fail;
		/* a failure leaves the modules reported before it: symbolize what there is */
		dwfl_linux_proc_maps_report(s->dwfl, f);
		fclose(f);
	}
	if (dwfl_report_end(s->dwfl, NULL, NULL))
		goto fail;

	memcpy(s->ehdr.e_ident, ELFMAG, SELFMAG);
	s->ehdr.e_ident[EI_CLASS] = ELFCLASS64;
	s->ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
	s->ehdr.e_ident[EI_VERSION] = EV_CURRENT;
	s->ehdr.e_type = ET_CORE;
	s->ehdr.e_machine = EM_X86_64;
	s->ehdr.e_version = EV_CURRENT;
	s->ehdr.e_ehsize = sizeof(s->ehdr);
	s->arch = elf_memory((char *)&s->ehdr, sizeof(s->ehdr));
	s->attached = s->arch &&
		      dwfl_attach_state(s->dwfl, s->arch, UNWIND_TID, &thread_callbacks, s);
	m->s = s;
	m->s_failed = false;
	account(s, before);
	return s;
fail:
	session_free(s);
	return NULL;
}

static bool path_in_app(const char *path)
{
	static const char *const system[] = { "/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/",
					      "/usr/libexec/" };
	size_t i;

	if (path[0] != '/')
		return false; /* [vdso], or unknown */
	for (i = 0; i < sizeof(system) / sizeof(system[0]); i++)
		if (!strncmp(path, system[i], strlen(system[i])))
			return false;
	return true;
}

/* Go names functions by package path: "main.main", "net/http.(*conn).serve",
 * "github.com/x/y.F". Not the standard library's: main's, and those of a path whose first
 * element has a dot. */
static bool go_in_app(const char *fn)
{
	const char *slash = strchr(fn, '/');

	if (!strncmp(fn, "main.", 5))
		return true;
	if (!strncmp(fn, "go.", 3) || !strncmp(fn, "type.", 5) || !slash)
		return false;
	return memchr(fn, '.', (size_t)(slash - fn)) != NULL;
}

/* Whether mod is a Go executable (it has Go's function table), remembered in its userdata. */
static bool is_go_module(Dwfl_Module *mod)
{
	static const char go[] = "go", not_go[] = "not go";
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	void **userdata;
	Dwarf_Addr bias;
	GElf_Shdr shdr;
	const char *name;
	Elf *elf;

	if (!dwfl_module_info(mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL))
		return false;
	if (*userdata)
		return *userdata == go;
	*userdata = (void *)not_go;
	elf = dwfl_module_getelf(mod, &bias);
	if (!elf || elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &shdr) && (name = elf_strptr(elf, shstrndx, shdr.sh_name)) &&
		    (!strcmp(name, ".gopclntab") || !strcmp(name, ".go.buildinfo"))) {
			*userdata = (void *)go;
			return true;
		}
	return false;
}

/* The kept line that maps pc, if any. */
static const struct umap *map_at(const struct unwind_maps *m, uint64_t pc)
{
	size_t lo = 0, hi = m->nmap;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pc < m->map[mid].start)
			hi = mid;
		else if (pc >= m->map[mid].end)
			lo = mid + 1;
		else
			return &m->map[mid];
	}
	return NULL;
}

/* The source line of addr found CU by CU: libdw 0.188 finds a CU by .debug_aranges only,
 * which clang does not emit by default. */
static const char *scan_src(Dwfl_Module *mod, Dwarf_Addr addr, int *lineno)
{
	Dwarf_Off off = 0, next;
	Dwarf_Addr bias;
	Dwarf_Line *line;
	Dwarf_Die cu;
	size_t hsize;
	Dwarf *dw = dwfl_module_getdwarf(mod, &bias);

	Dwarf_Aranges *aranges;
	size_t naranges;

	/* with aranges, libdw has looked already */
	if (!dw || (!dwarf_getaranges(dw, &aranges, &naranges) && naranges))
		return NULL;
	for (; dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0; off = next) {
		if (!dwarf_offdie(dw, off + hsize, &cu) || dwarf_haspc(&cu, addr - bias) <= 0)
			continue;
		line = dwarf_getsrc_die(&cu, addr - bias);
		if (line && !dwarf_lineno(line, lineno))
			return dwarf_linesrc(line, NULL, NULL);
		return NULL;
	}
	return NULL;
}

static void symbolize(const struct unwind_maps *m, Dwfl *dwfl, uint64_t pc, bool activation,
		      struct unwind_frame *f)
{
	/* a return address may be just past a call at a function's end: look up the call */
	uint64_t look = activation || !pc ? pc : pc - 1;
	Dwfl_Module *mod = dwfl ? dwfl_addrmodule(dwfl, look) : NULL;
	const char *name, *fn, *src;
	const struct umap *u;
	Dwarf_Addr low, bias;
	Dwfl_Line *line;
	GElf_Off off;
	GElf_Sym sym;
	int lineno;

	memset(f, 0, sizeof(*f));
	f->pc = pc;
	if (!mod) {
		u = map_at(m, look);
		if (!u)
			return;
		name = m->paths + u->path;
		snprintf(f->module, sizeof(f->module), "%s", base_name(name));
		f->module_off = pc - u->start + (name[0] == '/' ? u->offset : 0);
		f->in_app = path_in_app(name);
		return;
	}
	name = dwfl_module_info(mod, NULL, &low, NULL, NULL, NULL, NULL, NULL);
	if (!name)
		name = "";
	if (m->root_len && !strncmp(name, m->root, m->root_len))
		name += m->root_len;
	snprintf(f->module, sizeof(f->module), "%s", base_name(name));
	f->in_app = path_in_app(name);
	/* without its file, the module's first byte stands for its first link-time address */
	f->module_off = dwfl_module_getelf(mod, &bias) ? pc - bias : pc - low;

	fn = dwfl_module_addrinfo(mod, look, &off, &sym, NULL, NULL, NULL);
	if (fn && fn[0]) {
		/* the symbol's version, in libc6-dbg's tables: __libc_start_main@@GLIBC_2.34 */
		snprintf(f->function, sizeof(f->function), "%.*s", (int)strcspn(fn, "@"), fn);
		f->fn_off = off + (pc - look);
		f->res = UNWIND_SYMBOL;
		if (f->in_app && is_go_module(mod))
			f->in_app = go_in_app(fn);
	}
	line = dwfl_module_getsrc(mod, look);
	src = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
	if (!line)
		src = scan_src(mod, look, &lineno);
	if (src && src[0] && lineno > 0) {
		snprintf(f->file, sizeof(f->file), "%s", base_name(src));
		f->line = lineno;
		f->res = UNWIND_LINE;
	}
}

struct walk {
	uint64_t pc[UNWIND_MAX_FRAMES], sp[UNWIND_MAX_FRAMES];
	bool activation[UNWIND_MAX_FRAMES];
	size_t n, max;
};

static int frame_cb(Dwfl_Frame *frame, void *arg)
{
	struct walk *w = arg;
	Dwarf_Word sp = 0;
	Dwarf_Addr pc;
	bool activation;
	size_t i;

	if (w->n >= w->max || !dwfl_frame_pc(frame, &pc, &activation) || !pc)
		return DWARF_CB_ABORT;
	if (dwfl_frame_reg(frame, UNWIND_REG_SP, &sp))
		sp = ~0ull;
	/* the same pc at the same sp: this frame unwinds as one seen before, forever */
	for (i = 0; i < w->n; i++)
		if (w->pc[i] == pc && w->sp[i] == sp)
			return DWARF_CB_ABORT;
	w->pc[w->n] = pc;
	w->sp[w->n] = sp;
	w->activation[w->n] = activation;
	w->n++;
	return w->n < w->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

int unwind_stack(struct unwind_maps *m, const uint64_t regs[UNWIND_NREGS], uint64_t stack_addr,
		 const void *stack, size_t len, struct unwind_frame *out, size_t max)
{
	struct unwind_session *s;
	struct walk *w;
	size_t i, before;

	if (!m || !regs || !out || !max || !regs[UNWIND_REG_IP])
		return 0;
	if (max > UNWIND_MAX_FRAMES)
		max = UNWIND_MAX_FRAMES;
	s = session(m);
	if (!s || !s->attached) {
		/* no unwinder: the faulting ip is still worth naming */
		symbolize(m, s ? s->dwfl : NULL, regs[UNWIND_REG_IP], true, out);
		return 1;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return 0;
	w->max = max;
	before = heap_used();
	s->regs = regs;
	s->stack_addr = stack_addr;
	s->stack = stack;
	s->len = stack ? len : 0;
	/* its result says only why the walk ended: the frames are what it found */
	dwfl_getthread_frames(s->dwfl, UNWIND_TID, frame_cb, w);
	s->regs = NULL;
	s->stack = NULL;
	s->len = 0;
	for (i = 0; i < w->n; i++)
		symbolize(m, s->dwfl, w->pc[i], w->activation[i], &out[i]);
	account(s, before);
	i = w->n;
	free(w);
	return (int)i;
}

int unwind_symbolize(struct unwind_maps *m, const uint64_t *pcs, size_t n, bool first_is_ip,
		     struct unwind_frame *out, size_t max)
{
	struct unwind_session *s;
	size_t i, before;

	if (!m || !pcs || !out)
		return 0;
	if (n > max)
		n = max;
	if (n > UNWIND_MAX_FRAMES)
		n = UNWIND_MAX_FRAMES;
	if (!n)
		return 0;
	s = session(m);
	before = heap_used();
	for (i = 0; i < n; i++)
		symbolize(m, s ? s->dwfl : NULL, pcs[i], i == 0 && first_is_ip, &out[i]);
	if (s)
		account(s, before);
	return (int)n;
}

/* A frame's field (size bytes, not necessarily NUL-terminated: frames may come from anywhere)
 * as valid UTF-8 with no control characters (a newline would split a stack trace's line): dst
 * holds 3 * size + 1 bytes. */
static const char *clean_field(char *dst, const char *src, size_t size)
{
	size_t i, n = utf8_clean(dst, src, size);

	for (i = 0; i < n; i++)
		if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f)
			dst[i] = '?';
	return dst;
}

int unwind_frame_text(const struct unwind_frame *f, char *buf, size_t len)
{
	char fn[3 * sizeof(f->function) + 1], mod[3 * sizeof(f->module) + 1];
	char file[3 * sizeof(f->file) + 1];
	unsigned long pc = (unsigned long)f->pc;

	clean_field(fn, f->function, sizeof(f->function));
	clean_field(mod, f->module, sizeof(f->module));
	clean_field(file, f->file, sizeof(f->file));
	if (f->res == UNWIND_LINE && file[0]) {
		if (!fn[0])
			snprintf(fn, sizeof(fn), "0x%lx", pc);
		return f->line > 0 ? snprintf(buf, len, "%s (%s:%d)", fn, file, f->line)
				   : snprintf(buf, len, "%s (%s)", fn, file);
	}
	if (f->res >= UNWIND_SYMBOL && fn[0])
		return f->fn_off ? snprintf(buf, len, "%s+0x%lx (%s)", fn, (unsigned long)f->fn_off,
					    mod[0] ? mod : "?")
				 : snprintf(buf, len, "%s (%s)", fn, mod[0] ? mod : "?");
	if (mod[0])
		return snprintf(buf, len, "0x%lx (%s+0x%lx)", pc, mod,
				(unsigned long)f->module_off);
	return snprintf(buf, len, "0x%lx (?)", pc);
}
