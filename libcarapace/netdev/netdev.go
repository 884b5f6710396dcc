// Package netdev moves host network interfaces into a container's network
// namespace (linux.netDevices), renamed as asked, keeping their permanent
// addresses: moving a device across namespaces drops its addresses.
package netdev

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Index returns the index of the interface name in the caller's network
// namespace.
func Index(name string) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, fmt.Errorf("interface %q: %w", name, err)
	}
	return int(ifr.Uint32()), nil
}

// links lists the interfaces of the caller's network namespace as
// (index, attributes) pairs.
func links() (map[int][]syscall.NetlinkRouteAttr, error) {
	rib, err := syscall.NetlinkRIB(unix.RTM_GETLINK, unix.AF_UNSPEC)
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return nil, err
	}
	out := map[int][]syscall.NetlinkRouteAttr{}
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWLINK || len(m.Data) < unix.SizeofIfInfomsg {
			continue
		}
		info := *(*unix.IfInfomsg)(unsafe.Pointer(&m.Data[0]))
		attrs, err := syscall.ParseNetlinkRouteAttr(&m)
		if err != nil {
			continue
		}
		out[int(info.Index)] = attrs
	}
	return out, nil
}

// linkAttr returns one attribute of interface index.
func linkAttr(index int, typ uint16) ([]byte, error) {
	ls, err := links()
	if err != nil {
		return nil, err
	}
	for _, a := range ls[index] {
		if a.Attr.Type == typ {
			return a.Value, nil
		}
	}
	return nil, fmt.Errorf("interface %d: no attribute %d", index, typ)
}

// nameByHWAddr finds the interface with hardware address hw.
func nameByHWAddr(hw []byte) (string, error) {
	ls, err := links()
	if err != nil {
		return "", err
	}
	for _, attrs := range ls {
		var addr, name []byte
		for _, a := range attrs {
			switch a.Attr.Type {
			case unix.IFLA_ADDRESS:
				addr = a.Value
			case unix.IFLA_IFNAME:
				name = a.Value
			}
		}
		if addr != nil && bytes.Equal(addr, hw) && name != nil {
			return strings.TrimRight(string(name), "\x00"), nil
		}
	}
	return "", fmt.Errorf("the moved interface (hardware address %x) is not in the container", hw)
}

type addr struct {
	msg   unix.IfAddrmsg
	local []byte
	addr  []byte
}

// permanentAddrs lists the permanent, global-scope addresses of interface
// index.
func permanentAddrs(index int) ([]addr, error) {
	rib, err := syscall.NetlinkRIB(unix.RTM_GETADDR, unix.AF_UNSPEC)
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return nil, err
	}
	var out []addr
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWADDR || len(m.Data) < unix.SizeofIfAddrmsg {
			continue
		}
		ifa := *(*unix.IfAddrmsg)(unsafe.Pointer(&m.Data[0]))
		if int(ifa.Index) != index {
			continue
		}
		attrs, err := syscall.ParseNetlinkRouteAttr(&m)
		if err != nil {
			continue
		}
		a := addr{msg: ifa}
		flags := uint32(ifa.Flags)
		for _, at := range attrs {
			switch at.Attr.Type {
			case unix.IFA_LOCAL:
				a.local = at.Value
			case unix.IFA_ADDRESS:
				a.addr = at.Value
			case unix.IFA_FLAGS:
				if len(at.Value) >= 4 {
					flags = binary.NativeEndian.Uint32(at.Value)
				}
			}
		}
		// runtime-spec 1.3: the permanent addresses "of any family with
		// global scope (RT_SCOPE_UNIVERSE)", not link or host ones.
		if flags&unix.IFA_F_PERMANENT != 0 && ifa.Scope == unix.RT_SCOPE_UNIVERSE {
			out = append(out, a)
		}
	}
	return out, nil
}

func rtattr(t uint16, data []byte) []byte {
	l := unix.SizeofRtAttr + len(data)
	b := make([]byte, (l+3)&^3)
	binary.NativeEndian.PutUint16(b[0:], uint16(l))
	binary.NativeEndian.PutUint16(b[2:], t)
	copy(b[unix.SizeofRtAttr:], data)
	return b
}

// request sends one rtnetlink request and waits for its acknowledgement.
func request(typ, flags uint16, body []byte) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	msg := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(body))
	msg = append(msg, body...)
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK|flags)
	binary.NativeEndian.PutUint32(msg[8:], 1)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 8192)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return err
	}
	replies, err := syscall.ParseNetlinkMessage(buf[:n])
	if err != nil {
		return err
	}
	for _, r := range replies {
		if r.Header.Type == unix.NLMSG_ERROR && len(r.Data) >= 4 {
			if code := int32(binary.NativeEndian.Uint32(r.Data)); code != 0 {
				return unix.Errno(-code)
			}
			return nil
		}
	}
	return errors.New("no netlink acknowledgement")
}

// Move moves host interface host into the network namespace at nsPath,
// named name there, with its permanent addresses, up if it was up.
func Move(host, name, nsPath string) error {
	if name == "" {
		name = host
	}
	index, err := Index(host)
	if err != nil {
		return err
	}
	addrs, err := permanentAddrs(index)
	if err != nil {
		return err
	}
	// With a name template (runtime-spec 1.3: "%d", the kernel picks the
	// number), the moved device is found again by its hardware address.
	var hw []byte
	if strings.Contains(name, "%d") {
		if hw, err = linkAttr(index, unix.IFLA_ADDRESS); err != nil {
			return err
		}
	}
	ns, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open network namespace: %w", err)
	}
	defer unix.Close(ns)
	info := unix.IfInfomsg{Family: unix.AF_UNSPEC, Index: int32(index)}
	body := append((*[unix.SizeofIfInfomsg]byte)(unsafe.Pointer(&info))[:], rtattr(unix.IFLA_NET_NS_FD, binary.NativeEndian.AppendUint32(nil, uint32(ns)))...)
	body = append(body, rtattr(unix.IFLA_IFNAME, append([]byte(name), 0))...)
	if err := request(unix.RTM_SETLINK, 0, body); err != nil {
		return fmt.Errorf("move %s into the container as %s: %w", host, name, err)
	}
	// Addresses and the up state are set from inside the namespace, on a
	// thread of its own that is thrown away afterwards.
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(ns, unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		actual := name
		if hw != nil {
			n, err := nameByHWAddr(hw)
			if err != nil {
				errc <- err
				return
			}
			actual = n
		}
		errc <- configure(actual, addrs)
	}()
	if err := <-errc; err != nil {
		return fmt.Errorf("configure %s in the container: %w", name, err)
	}
	return nil
}

// configure gives the moved device its addresses and sets it up:
// runtime-spec 1.3 says the runtime "MUST set the network device state to
// up after moving it", whatever it was on the host.
func configure(name string, addrs []addr) error {
	index, err := Index(name)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		m := a.msg
		m.Index = uint32(index)
		body := append([]byte(nil), (*[unix.SizeofIfAddrmsg]byte)(unsafe.Pointer(&m))[:]...)
		if a.local != nil {
			body = append(body, rtattr(unix.IFA_LOCAL, a.local)...)
		}
		if a.addr != nil {
			body = append(body, rtattr(unix.IFA_ADDRESS, a.addr)...)
		}
		if err := request(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, body); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("add address: %w", err)
		}
	}
	return setUp(name)
}

func flags(name string) (uint16, int, *unix.Ifreq, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, -1, nil, err
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return 0, -1, nil, err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		unix.Close(fd)
		return 0, -1, nil, err
	}
	return ifr.Uint16(), fd, ifr, nil
}

func setUp(name string) error {
	f, fd, ifr, err := flags(name)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr.SetUint16(f | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}
