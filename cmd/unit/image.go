package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"unit/image"
)

func cmdImage(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: unit image build SYSTEM.toml -o DIR | unit image run DIR")
	}
	ctx, cancel := interruptible()
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	switch args[0] {
	case "build":
		fs := newFlags("image build")
		out := fs.String("o", "", "output directory")
		cache := fs.String("cache", "", "download cache (default: $UNIT_CACHE or ~/.cache/unit)")
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 || *out == "" {
			return fmt.Errorf("usage: unit image build SYSTEM.toml -o DIR")
		}
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find own binary: %w", err)
		}
		res, err := image.Build(ctx, image.Options{System: pos[0], Out: *out, Init: self, CacheDir: *cache, Log: log})
		if err != nil {
			return err
		}
		fmt.Printf("kernel %s\n%s\n%s (%d bytes; %d without modules)\n", res.KernelVersion, res.Vmlinuz, res.Initramfs, res.InitramfsSize, res.InitramfsSize-res.ModulesSize)
		return nil
	case "run":
		fs := newFlags("image run")
		mem := fs.String("m", "512M", "guest memory")
		appendArgs := fs.String("append", "", "extra kernel command line")
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return fmt.Errorf("usage: unit image run DIR")
		}
		return image.Run(context.Background(), pos[0], image.RunOptions{Memory: *mem, Append: *appendArgs, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	}
	return fmt.Errorf("unknown image command %q", args[0])
}
