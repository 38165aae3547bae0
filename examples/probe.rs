use pep508_rs::pep440_rs::Version;
fn main(){
 let a: Version = "1.0".parse().unwrap();
 let m = a.clone().with_max(Some(0));
 let p: Version = "1.0.post1".parse().unwrap();
 let l: Version = "1.0+local".parse().unwrap();
 println!("{:?} max={:?} {:?} {:?}", m.cmp(&p), Version::max(&m), m.cmp(&l), m.cmp(&a));
}
