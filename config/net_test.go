package config

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestNetConfig(t *testing.T) {
	c, err := loadString(t, `
[net.eth0]
dhcp = true

[net.uplink]
mac       = "52:54:00:12:34:56"
addresses = ["10.0.2.15/24"]
routes    = [{ to = "default", via = "10.0.2.2" }]
`)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(slices.Sorted(maps.Keys(c.Nets)), ","); got != "eth0,uplink" {
		t.Fatalf("nets %s", got)
	}
	if u := c.Nets["uplink"]; u.Routes[0].Via != "10.0.2.2" || u.Addresses[0] != "10.0.2.15/24" || !c.Nets["eth0"].DHCP {
		t.Fatalf("%+v", u)
	}
}

func TestNetConfigErrors(t *testing.T) {
	_, err := loadString(t, `
[net.eth0]
mac       = "nope"
addresses = ["10.0.2.15"]
routes    = [{ to = "default", via = "gw" }]

[net.eth1]
mtu = 1500
`)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`:3: mac "nope"`,
		`:4: address "10.0.2.15": want CIDR`,
		`:5: route via "gw"`,
		`:7: net "eth1": set dhcp = true or addresses`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
