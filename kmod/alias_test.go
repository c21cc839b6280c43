package kmod

import (
	"reflect"
	"strings"
	"testing"
)

const aliasText = `# Aliases extracted from modules themselves.
alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e
alias pci:v*d*sv*sd*bc01sc06i01* ahci
alias pci:v00001AF4d00001000sv*sd*bc*sc*i* virtio_pci
alias virtio:d00000001v* virtio_net
alias virtio:d00000002v* virtio_blk
alias fs-ext4 ext4
alias usb:v*p*d*dc*dsc*dp*ic03isc01ip01in* usbhid
`

func TestAliasMatch(t *testing.T) {
	a, err := ParseAlias(strings.NewReader(aliasText))
	if err != nil {
		t.Fatal(err)
	}
	for modalias, want := range map[string][]string{
		// q35's e1000e and ICH9 AHCI, as /sys shows them.
		"pci:v00008086d000010D3sv00008086sd00000000bc02sc00i00": {"e1000e"},
		"pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01": {"ahci"},
		"virtio:d00000001v00001AF4":                             {"virtio_net"},
		"virtio:d00000002v00001AF4":                             {"virtio_blk"},
		"fs-ext4":                                               {"ext4"},
		"usb:v0627p0001d0000dc00dsc00dp00ic03isc01ip01in00":     {"usbhid"},
		"pci:v000010ECd00008168sv00000000sd00000000bc02sc00i00": {},
		"acpi:PNP0A08:":                                         {},
	} {
		if got := a.Match(modalias); !reflect.DeepEqual(got, want) {
			t.Errorf("Match(%q) = %v, want %v", modalias, got, want)
		}
	}
}

func TestAliasParseError(t *testing.T) {
	_, err := ParseAlias(strings.NewReader("alias ok mod\nbogus line\n"))
	if err == nil || !strings.Contains(err.Error(), "modules.alias:2") {
		t.Fatalf("err = %v, want modules.alias:2", err)
	}
}
