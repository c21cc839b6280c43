package pid1

import "testing"

func TestParseUevent(t *testing.T) {
	msg := "add@/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0\x00ACTION=add\x00" +
		"DEVPATH=/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0\x00SUBSYSTEM=scsi\x00" +
		"MODALIAS=scsi:t-0x00\x00SEQNUM=1234\x00"
	ev := parseUevent([]byte(msg))
	if ev["ACTION"] != "add" || ev["MODALIAS"] != "scsi:t-0x00" || ev["SUBSYSTEM"] != "scsi" || ev["SEQNUM"] != "1234" {
		t.Fatalf("parsed %v", ev)
	}
	if ev := parseUevent([]byte("libudev\x00\xfe\xed")); ev["ACTION"] != "" {
		t.Fatalf("udev's own messages must not parse as kernel events: %v", ev)
	}
}
