package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// foregroundEnv marks the process that --background starts, which then serves in the foreground.
const foregroundEnv = "CLOCKIFY_SIM_FOREGROUND"

// startBackground runs the simulator as a detached child with the same arguments and returns once
// the child listens: it prints the child's base URL, writes its pid to pidFile and exits 0. The
// child has its own session (a Ctrl-C in the terminal does not reach it) and no stderr.
func startBackground(ctx context.Context, args []string, pidFile string, stdout, stderr io.Writer) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "clockify-sim: --background: %v\n", err)
		return 1
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), foregroundEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintf(stderr, "clockify-sim: --background: %v\n", err)
		return 1
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "clockify-sim: --background: starting %s: %v\n", exe, err)
		return 1
	}
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		lines <- strings.TrimSpace(line)
	}()
	var base string
	select {
	case base = <-lines:
	case <-time.After(time.Minute):
	case <-ctx.Done():
	}
	if base == "" {
		cmd.Process.Kill()
		cmd.Wait()
		fmt.Fprintf(stderr, "clockify-sim: the background simulator did not start listening; run it without --background to see why\n")
		return 1
	}
	pid := cmd.Process.Pid
	if pidFile != "" {
		if err := writeAtomic(pidFile, []byte(strconv.Itoa(pid)+"\n")); err != nil {
			cmd.Process.Kill()
			fmt.Fprintf(stderr, "clockify-sim: writing --pid-file %s: %v\n", pidFile, err)
			return 1
		}
	}
	fmt.Fprintln(stdout, base)
	fmt.Fprintf(stderr, "clockify-sim: serving %s/api/v1 in the background as process %d (stop it with: kill %d)\n", base, pid, pid)
	cmd.Process.Release()
	return 0
}
